"""Community tech teams: enrolling and supporting residents."""
