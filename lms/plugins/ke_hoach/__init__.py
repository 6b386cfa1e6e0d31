"""Kế hoạch: the commune plan followed up."""
