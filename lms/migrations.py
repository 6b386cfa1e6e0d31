"""Alembic configuration built from settings and the installed plugins."""

import importlib
import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

from alembic.config import Config

from lms import paths
from lms.plugin_host import build_plugin_manager, flatten
from lms.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


def import_all_models(settings: Settings) -> None:
    """Import models.py of every installed plugin, disabled ones too: the schema is shared."""
    everything = settings.model_copy(update={"plugins_disable": []})
    pm = build_plugin_manager(everything)
    for _, module in pm.list_name_plugin():
        package = module.__name__.rpartition(".")[0]
        if package and importlib.util.find_spec(f"{package}.models"):
            importlib.import_module(f"{package}.models")


def alembic_config(settings: Settings, url: str | None = None) -> Config:
    pm = build_plugin_manager(settings.model_copy(update={"plugins_disable": []}))
    locations = [paths.migrations_dir() / "versions"]
    locations += [Path(p) for p in flatten(pm.hook.migration_dirs())]
    config = Config()
    config.set_main_option("script_location", str(paths.migrations_dir()))
    config.set_main_option("version_locations", " ".join(str(p) for p in locations))
    config.set_main_option("path_separator", "space")
    config.attributes["settings"] = settings
    config.attributes["url"] = url or settings.resolved_database_url
    return config


def upgrade(settings: Settings, revision: str = "heads", url: str | None = None) -> None:
    from alembic import command

    command.upgrade(alembic_config(settings, url), revision)


def downgrade(settings: Settings, revision: str = "base", url: str | None = None) -> None:
    from alembic import command

    command.downgrade(alembic_config(settings, url), revision)


def script_heads(settings: Settings) -> frozenset[str]:
    """The newest revisions the installed code and plugins know."""
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory.from_config(alembic_config(settings)).get_heads())


def database_heads(connection: "Connection") -> frozenset[str]:
    """The revisions the database is at; empty for a database never migrated."""
    from alembic.runtime.migration import MigrationContext

    return frozenset(MigrationContext.configure(connection).get_current_heads())
