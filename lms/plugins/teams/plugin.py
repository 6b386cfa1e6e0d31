"""The teams plugin: community tech teams enrolling and supporting residents."""

from typing import Any

from lms.hookspecs import hookimpl
from lms.plugins import NavItem, PluginMeta

meta = PluginMeta(name="teams", label="Tổ công nghệ số cộng đồng",
                  requires=["courses", "quiz", "certificates"])


@hookimpl
def register_routers() -> list[Any]:
    from lms.plugins.teams.router import router

    return [router]


@hookimpl
def nav_items(request: Any, user: Any) -> list[NavItem]:
    if user is not None and user.role in ("team_member", "staff", "admin"):
        return [NavItem("Tổ công nghệ số", "/teams", 55)]
    return []
