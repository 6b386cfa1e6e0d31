"""A plugin whose hook name is misspelt (`nav_item` for `nav_items`): start-up must refuse it."""

from typing import Any

from lms.hookspecs import hookimpl
from lms.plugin_host import NavItem, PluginMeta

meta = PluginMeta(name="misspelt", label="Plugin viết sai tên hook")


@hookimpl
def nav_item(user: Any) -> list[NavItem]:
    return [NavItem("Không bao giờ hiện", "/never")]
