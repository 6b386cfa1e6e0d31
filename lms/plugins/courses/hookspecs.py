"""Hooks the courses plugin offers to others."""

from typing import Any

from lms.hookspecs import hookspec


@hookspec
def course_requirements(db: Any, course: Any, user_id: int) -> list[Any]:
    """Return Requirement entries besides the lessons that must be met to complete `course`
    (the quiz plugin answers "passed the quiz?")."""


@hookspec
def studio_sections(request: Any, db: Any, draft: Any) -> list[Any]:
    """Return HTML (markupsafe.Markup) for the course editor's page of `draft` (a CourseDraft):
    the quiz plugin shows the draft's quiz and a link to its editor."""
