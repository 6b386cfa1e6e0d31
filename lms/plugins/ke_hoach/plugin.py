"""The commune's plan followed up: tasks, the body responsible, deadlines, status and evidence, and the periodic report."""

from lms.plugin_host import PluginMeta

meta = PluginMeta(name="ke_hoach", label="Kế hoạch", requires=["stats"])
