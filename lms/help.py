"""Help pages ("Hướng dẫn"): what plugins contribute through the `help_pages` hook, and who reads which.

Each page is written for one role, the lowest that does its tasks; everyone of that role or
above may read it (a staff member also reads the team members' pages), and pages written for
learners are for visitors too. The help index shows a reader their own role's pages first,
then those of the roles below, grouped by role."""

import re
from dataclasses import dataclass
from typing import Any

from lms.plugin_host import PluginError, flatten
from lms.security import ROLES

SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
# Headings of the index, by the role a page is written for.
GROUPS = {
    "learner": "Người học",
    "team_member": "Tổ công nghệ số cộng đồng",
    "staff": "Cán bộ xã/phường",
    "admin": "Quản trị hệ thống",
}


@dataclass(frozen=True)
class HelpPage:
    """One printable how-to page.

    `role` is the lowest role the page is written for ("learner", "team_member", "staff",
    "admin"); `template` renders its body and extends "core/help/page.html"; `summary` is one
    sentence shown in the index; `order` sorts the pages of one role."""

    slug: str
    title: str
    summary: str
    template: str
    role: str = "learner"
    order: int = 50

    def readable_by(self, user: Any) -> bool:
        return rank(user) >= ROLES.index(self.role)


def rank(user: Any) -> int:
    """A visitor reads what learners read; each role reads its own pages and those below."""
    if user is None:
        return 0
    return ROLES.index(user.role) if user.role in ROLES else 0


def collect(pm: Any) -> dict[str, HelpPage]:
    """Every plugin's help pages by slug, checked: a clash or an unknown role stops start-up."""
    pages: dict[str, HelpPage] = {}
    for page in flatten(pm.hook.help_pages()):
        if not isinstance(page, HelpPage):
            raise PluginError(f"help_pages returned {type(page).__name__}, not lms.help.HelpPage")
        if not SLUG.match(page.slug):
            raise PluginError(f"Help page slug {page.slug!r} is not lower-case words joined by '-'")
        if page.role not in ROLES:
            raise PluginError(f"Help page {page.slug!r} is for an unknown role {page.role!r}")
        if page.slug in pages:
            raise PluginError(f"Two help pages have the slug {page.slug!r}")
        pages[page.slug] = page
    return dict(sorted(pages.items(), key=lambda item: (ROLES.index(item[1].role), item[1].order, item[1].title)))


def groups_for(pages: dict[str, HelpPage], user: Any) -> list[tuple[str, list[HelpPage]]]:
    """The index a reader sees: their own role's pages first, then each role below theirs."""
    top = max(rank(user), 0)
    out = []
    for role in reversed(ROLES[: top + 1]):
        shown = [page for page in pages.values() if page.role == role]
        if shown:
            out.append((GROUPS[role], shown))
    return out
