"""A test plugin that needs one that is not installed."""

from lms.plugin_host import PluginMeta

meta = PluginMeta(name="requires_missing", label="Cần plugin vắng mặt", requires=["no_such"])
