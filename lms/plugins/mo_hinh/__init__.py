"""Mô hình tiêu biểu: local models of digital transformation."""
