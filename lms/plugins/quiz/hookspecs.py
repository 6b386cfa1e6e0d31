"""Hooks the quiz plugin offers: question types."""

from typing import Any

from lms.hookspecs import hookspec


@hookspec
def question_types() -> list[Any]:
    """Return question type objects (see lms.plugins.quiz.question_types.QuestionType)."""
