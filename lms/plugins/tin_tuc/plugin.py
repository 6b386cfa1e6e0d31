"""News items staff publish: at /tin-tuc, on the home page, in the feeds and on the hall screen."""

from lms.plugin_host import PluginMeta

meta = PluginMeta(name="tin_tuc", label="Tin tức", requires=[])
