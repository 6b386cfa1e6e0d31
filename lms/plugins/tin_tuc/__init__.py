"""Tin tức: news items staff publish."""
