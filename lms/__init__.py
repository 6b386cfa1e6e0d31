"""hocvuso: a course platform for the "Bình dân học vụ số" movement."""
