"""The statistics plugin: dashboard, targets, exports, report and read-only API."""
