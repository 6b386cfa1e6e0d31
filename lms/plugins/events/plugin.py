"""The events plugin: QR registration, tickets and check-in."""

from typing import Any

from lms.hookspecs import hookimpl
from lms.plugins import NavItem, PluginMeta

meta = PluginMeta(name="events", label="Sự kiện", requires=["courses"])


@hookimpl
def register_routers() -> list[Any]:
    from lms.plugins.events.router import router

    return [router]


@hookimpl
def nav_items(request: Any, user: Any) -> list[NavItem]:
    if user is not None and user.role in ("team_member", "staff", "admin"):
        return [NavItem("Sự kiện", "/staff/events", 60)]
    return []


@hookimpl
def stats_figures(scope: Any, period: Any) -> list[Any]:
    from lms.plugins.events.figures import stats_figures as figures

    return figures(scope, period)
