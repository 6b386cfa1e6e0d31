"""The commune plan followed up: tasks, bodies, deadlines, status, evidence, and the report."""

from lms.plugin_host import PluginMeta

meta = PluginMeta(name="ke_hoach", label="Kế hoạch", requires=["stats"])
