"""Kế hoạch: The commune's plan followed up: tasks, the body responsible, deadlines, status and evidence, and the periodic report."""
