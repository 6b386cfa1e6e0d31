"""Database engine, sessions, and the SQLite settings that let several workers share a file."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from lms.settings import Settings

SQLITE_BUSY_TIMEOUT_MS = 15_000


def utcnow() -> datetime:
    """Aware UTC, as every timestamp column stores and returns it."""
    return datetime.now(UTC)


def make_engine(settings: Settings, url: str | None = None) -> Engine:
    url = url or settings.resolved_database_url
    if url.startswith("sqlite"):
        settings.ensure_instance()
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # Take transaction control from the driver so BEGIN can be IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # type: ignore[no-untyped-def]
        # A deferred transaction that reads and then writes cannot wait for a
        # concurrent writer: SQLite fails it at once with "database is locked".
        # Writers therefore take the write lock up front and wait their turn.
        if connection.get_execution_options().get("sqlite_immediate"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


def writer(engine: Engine) -> Engine:
    """The same engine, but its transactions take SQLite's write lock when they begin."""
    return engine.execution_options(sqlite_immediate=True)


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """One transaction that commits on success and rolls back on any error."""
    with Session(writer(engine), expire_on_commit=False) as session, session.begin():
        yield session


def get_session(request: Request) -> Iterator[Session]:
    """Request-scoped session; unsafe methods get a writing transaction."""
    engine: Engine = request.app.state.engine
    bind = engine if request.method in ("GET", "HEAD", "OPTIONS") else writer(engine)
    with Session(bind, expire_on_commit=False) as session:
        yield session


def insert_ignore(session: Session, model: Any, values: dict[str, Any], conflict: list[str]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING; True when a row was inserted.

    A unique key decides, not a check-then-insert, so a retried request or two
    workers at once never make a second row."""
    table = model.__table__
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table).values(**values).on_conflict_do_nothing(index_elements=conflict)
    return (session.execute(statement).rowcount or 0) > 0
