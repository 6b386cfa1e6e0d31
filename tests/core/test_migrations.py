"""The migration head and the models agree, and the history runs both ways."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from lms import migrations
from lms.migrations import import_all_models


def _fresh_url(database_url: str) -> str:
    return database_url.replace("test.db", "migrations.db")


def _diff(url: str, settings) -> list:
    import_all_models(settings)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(context, SQLModel.metadata)
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_models_and_migration_head_agree(settings, database_url):
    url = _fresh_url(database_url)
    migrations.upgrade(settings, url=url)
    assert _diff(url, settings) == []
    assert {"core_user", "core_place", "core_session", "core_consent"} <= _tables(url)


def test_upgrade_downgrade_upgrade(settings, database_url):
    url = _fresh_url(database_url)
    migrations.upgrade(settings, url=url)
    migrations.downgrade(settings, url=url)
    assert _tables(url) <= {"alembic_version"}
    migrations.upgrade(settings, url=url)
    assert _diff(url, settings) == []
