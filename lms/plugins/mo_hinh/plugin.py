"""Local models of digital transformation: submitted, reviewed, published, compiled each year."""

from lms.plugin_host import PluginMeta

meta = PluginMeta(name="mo_hinh", label="Mô hình tiêu biểu", requires=[])
