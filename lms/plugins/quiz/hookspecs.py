"""Hooks the quiz plugin offers: question types, and who may take a learner's quiz with them."""

from typing import Any

from lms.hookspecs import hookspec


@hookspec
def question_types() -> list[Any]:
    """Return question type objects (see lms.plugins.quiz.question_types.QuestionType)."""


@hookspec(firstresult=True)
def assisted_learner_page(db: Any, helper: Any, learner_id: int) -> str | None:
    """Return the URL of the page a helper works from (e.g. a team's resident page) when
    `helper` may take this learner's quiz with them present, else None."""
