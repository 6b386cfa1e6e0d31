"""Hooks the teams plugin offers to others: what a resident did elsewhere, for the team area."""

from typing import Any

from lms.hookspecs import hookspec


@hookspec
def resident_sections(request: Any, db: Any, person: Any, helper: Any) -> list[Any]:
    """Return HTML sections (markupsafe.Markup) for a resident's page in the team area: what the
    person did in other plugins (quiz attempts, certificates). `helper` is the team member, staff
    or admin viewing it."""


@hookspec
def resident_credentials(db: Any, user_ids: list[int]) -> dict[int, int]:
    """Return, per learner id, how many valid credentials (certificates) they hold; teams adds up
    the answers of every plugin."""
