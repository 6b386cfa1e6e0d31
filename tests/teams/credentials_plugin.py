"""A third plugin answering teams' hooks: two badges for everyone, and a section of its own."""

from typing import Any

from markupsafe import Markup

from lms.hookspecs import hookimpl
from lms.plugin_host import PluginMeta

meta = PluginMeta(name="extra_credentials", label="Huy hiệu thử", requires=["teams"])


@hookimpl(optionalhook=True)
def resident_sections(request: Any, db: Any, person: Any, helper: Any) -> list[Any]:
    return [Markup("<h2>Huy hiệu của plugin thử</h2>")]


@hookimpl(optionalhook=True)
def resident_credentials(db: Any, user_ids: list[int]) -> dict[int, int]:
    return dict.fromkeys(user_ids, 2)
