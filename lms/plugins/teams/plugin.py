"""The teams plugin: community tech teams enrolling and supporting residents."""

from typing import Any

from lms.hookspecs import hookimpl
from lms.plugins import NavItem, PluginMeta
from lms.plugins.teams import hookspecs  # noqa: F401 - resident_sections, resident_credentials
from lms.plugins.teams.merging import merge_accounts, merge_villages  # noqa: F401 - hook implementations
from lms.plugins.teams.personal_data import (  # noqa: F401 - hook implementations
    personal_data_erase,
    personal_data_export,
)

meta = PluginMeta(name="teams", label="Tổ công nghệ số cộng đồng", requires=["courses"])


@hookimpl
def register_routers() -> list[Any]:
    from lms.plugins.teams.router import router

    return [router]


@hookimpl
def nav_items(request: Any, user: Any) -> list[NavItem]:
    if user is not None and user.role in ("team_member", "staff", "admin"):
        return [NavItem("Tổ công nghệ số", "/teams", 55)]
    return []


# The quiz plugin's hook: optional, so teams loads with quiz disabled.
@hookimpl(optionalhook=True)
def assisted_learner_page(db: Any, helper: Any, learner_id: int) -> str | None:
    from lms.plugins.teams import services

    return services.assisted_learner_page(db, helper, learner_id)
