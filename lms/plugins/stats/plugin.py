"""The statistics plugin: dashboard, targets, exports, printable report and read-only API.

It imports no other plugin: figures come through the stats_figures hook."""

from typing import Any

from lms.hookspecs import hookimpl
from lms.plugin_host import NavItem, PluginMeta

meta = PluginMeta(name="stats", label="Thống kê")


@hookimpl
def register_routers() -> list[Any]:
    from lms.plugins.stats.api import router as api_router
    from lms.plugins.stats.router import router

    return [router, api_router]


@hookimpl
def nav_items(user: Any) -> list[NavItem]:
    if user is not None and user.role in ("staff", "admin"):
        return [NavItem("Thống kê", "/stats", 65)]
    return []


@hookimpl
def register_commands(cli: Any) -> None:
    from lms.plugins.stats.commands import register

    register(cli)
