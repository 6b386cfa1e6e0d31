"""The built-in plugins, one package each. The plugin host itself is lms.plugin_host (core);
its names are offered here too, as plugins have always imported them from lms.plugins."""

from lms.plugin_host import (  # noqa: F401
    ENTRY_POINT_GROUP,
    ESSENTIAL,
    NavItem,
    PluginError,
    PluginMeta,
    build_plugin_manager,
    flatten,
    plugin_metas,
)
