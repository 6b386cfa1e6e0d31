"""Mô hình tiêu biểu: Local models of digital transformation: submitted by units and people, reviewed and published by the culture office, compiled each year."""
