"""The plugin host: loads plugins from the `lms.plugins` entry point group."""

from dataclasses import dataclass, field
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

import pluggy

from lms import hookspecs
from lms.settings import Settings

ENTRY_POINT_GROUP = "lms.plugins"
ESSENTIAL = frozenset({"core"})


@dataclass(frozen=True)
class PluginMeta:
    name: str
    label: str
    requires: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class NavItem:
    """A link: in the page header ("main") or among the staff area's tools ("staff")."""

    label: str
    href: str
    order: int = 50
    area: str = "main"


class PluginError(RuntimeError):
    pass


def build_plugin_manager(settings: Settings) -> pluggy.PluginManager:
    """Register every installed plugin except the disabled ones, and check `requires`."""
    pm = pluggy.PluginManager("lms")
    pm.add_hookspecs(hookspecs)
    disabled = set(settings.plugins_disable)
    refused = disabled & ESSENTIAL
    if refused:
        raise PluginError(f"Plugin {', '.join(sorted(refused))} is essential and cannot be disabled")
    loaded: dict[str, ModuleType] = {}
    for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        if entry.name in disabled or entry.name in loaded:
            continue
        module = entry.load()
        meta = getattr(module, "meta", None)
        if not isinstance(meta, PluginMeta):
            raise PluginError(f"Plugin {entry.name} ({entry.value}) has no `meta = PluginMeta(...)`")
        loaded[meta.name] = module
        # A plugin may bring hooks of its own for other plugins to implement.
        extra_specs = getattr(module, "hookspecs", None)
        if extra_specs is not None:
            pm.add_hookspecs(extra_specs)
        pm.register(module, name=meta.name)
    for name, module in loaded.items():
        missing = [req for req in module.meta.requires if req not in loaded]
        if missing:
            raise PluginError(
                f"Plugin {name} requires {', '.join(missing)}, which is disabled or not installed"
            )
    try:
        # A hook implementation no spec knows (a misspelt `nav_item`) would never be called.
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"Plugin {pm.get_name(exc.plugin)}: {exc}") from exc
    return pm


def plugin_metas(pm: pluggy.PluginManager) -> list[PluginMeta]:
    return [plugin.meta for _, plugin in pm.list_name_plugin() if hasattr(plugin, "meta")]


def flatten(results: list[Any]) -> list[Any]:
    """Hook results come as one list per plugin; most callers want one list."""
    out: list[Any] = []
    for result in results:
        if result is None:
            continue
        if isinstance(result, list | tuple):
            out.extend(result)
        else:
            out.append(result)
    return out
