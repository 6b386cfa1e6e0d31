"""Local models of digital transformation: submitted by units and people, reviewed and published by the culture office, compiled each year."""

from lms.plugin_host import PluginMeta

meta = PluginMeta(name="mo_hinh", label="Mô hình tiêu biểu", requires=[])
