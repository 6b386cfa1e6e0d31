"""Mức phổ cập kỹ năng số cơ bản: a programme-level result per audience."""
