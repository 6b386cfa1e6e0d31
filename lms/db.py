"""Database engine, sessions, and the SQLite settings that let several workers share a file."""

import sqlite3
import threading
import time
from _thread import LockType
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import anyio
from fastapi import Request
from sqlalchemy import event, literal_column
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, create_engine

from lms.settings import Settings

READ_ONLY = "lms_read_only"


def utcnow() -> datetime:
    """Aware UTC, as every timestamp column stores and returns it."""
    return datetime.now(UTC)


def make_engine(settings: Settings, url: str | None = None) -> Engine:
    url = url or settings.resolved_database_url
    # Sized to the thread pool that runs handlers (a request holds one connection at a
    # time: see Context.transaction), plus the outbox deliverer and a spare: a request never
    # waits for, nor opens and closes, a connection.
    pool = {"pool_size": settings.worker_threads + 2, "max_overflow": 2, "pool_timeout": 30}
    if url.startswith("sqlite"):
        settings.ensure_instance()
        engine = create_engine(
            url, **pool,
            connect_args={"check_same_thread": False, "timeout": settings.database_lock_timeout_seconds,
                          "factory": _QueuedWriterConnection},
        )
        _configure_sqlite(engine, settings)
    else:
        connect_args: dict[str, Any] = {}
        if not settings.database_prepared_statements:
            # PgBouncer in transaction mode hands each transaction another server
            # connection, where psycopg's named prepared statements do not exist.
            connect_args["prepare_threshold"] = None
        engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args, **pool)
        _configure_postgresql(engine, settings)
    _guard_read_only(engine)
    return engine


# Writers wait in two places. Threads of one process queue on a Python lock, which hands
# over at once. The thread at the head of the queue then takes SQLite's write lock, trying
# every half millisecond; SQLite's own busy handler would sleep up to 100 ms between tries,
# and between two worker processes the lock would stand free for most of that sleep.
_writer_queues: dict[str, LockType] = {}
_writer_queues_guard = threading.Lock()
_RETRY_SECONDS = 0.0005


def _writer_queue(path: str) -> LockType:
    with _writer_queues_guard:
        return _writer_queues.setdefault(path, threading.Lock())


class _QueuedWriterConnection(sqlite3.Connection):
    """A connection whose write transactions queue as above, and leave the queue when they end."""

    queue: LockType | None = None
    holds_queue = False
    busy_ms = 0

    def begin_immediate(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        if self.queue is not None:
            if not self.queue.acquire(timeout=timeout):
                raise sqlite3.OperationalError("database is locked")
            self.holds_queue = True
        try:
            self.execute("PRAGMA busy_timeout=0")
            try:
                while True:
                    try:
                        self.execute("BEGIN IMMEDIATE")
                        return
                    except sqlite3.OperationalError as exc:
                        if "locked" not in str(exc) or time.monotonic() >= deadline:
                            raise
                    time.sleep(_RETRY_SECONDS)
            finally:
                self.execute(f"PRAGMA busy_timeout={self.busy_ms}")
        except BaseException:
            self.leave_writer_queue()
            raise

    def leave_writer_queue(self) -> None:
        if self.holds_queue:
            self.holds_queue = False
            self.queue.release()  # type: ignore[union-attr]

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.leave_writer_queue()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.leave_writer_queue()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.leave_writer_queue()


def _configure_sqlite(engine: Engine, settings: Settings) -> None:
    busy_ms = int(settings.database_lock_timeout_seconds * 1000)
    timeout = settings.database_lock_timeout_seconds
    database = engine.url.database or ""
    queue = _writer_queue(database) if database and database != ":memory:" else None

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # Take transaction control from the driver so BEGIN can be IMMEDIATE.
        dbapi_connection.isolation_level = None
        if isinstance(dbapi_connection, _QueuedWriterConnection):
            dbapi_connection.queue, dbapi_connection.busy_ms = queue, busy_ms
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # type: ignore[no-untyped-def]
        options = connection.get_execution_options()
        if options.get(READ_ONLY):
            # No BEGIN: each read sees the newest commit and holds no snapshot, like
            # PostgreSQL's READ COMMITTED, so a page rendered after a service's commit
            # shows what it wrote.
            return
        # A deferred transaction that reads and then writes cannot wait for a
        # concurrent writer: SQLite fails it at once with "database is locked".
        # Writers therefore take the write lock up front and wait their turn.
        if options.get("sqlite_immediate"):
            raw = connection.connection.dbapi_connection
            if isinstance(raw, _QueuedWriterConnection):
                try:
                    raw.begin_immediate(timeout)
                except sqlite3.OperationalError as exc:
                    # As if SQLAlchemy had run the statement: callers know its errors.
                    raise OperationalError("BEGIN IMMEDIATE", (), exc) from exc
            else:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


def _configure_postgresql(engine: Engine, settings: Settings) -> None:
    lock_ms = int(settings.database_lock_timeout_seconds * 1000)

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # type: ignore[no-untyped-def]
        if connection.get_execution_options().get("sqlite_immediate"):
            # SET LOCAL lasts for this transaction only, so it is safe behind PgBouncer.
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = {lock_ms}")


class ReadOnlySession(RuntimeError):
    """A write through a read session: state changes belong in a service's unit of work."""


_READ_STATEMENTS = ("SELECT", "WITH", "PRAGMA", "SHOW", "SET")


def _guard_read_only(engine: Engine) -> None:
    @event.listens_for(engine, "before_cursor_execute")
    def _refuse_writes(connection, _cursor, statement, _parameters, _context, _many):  # type: ignore[no-untyped-def]
        if connection.get_execution_options().get(READ_ONLY) and \
                not statement.lstrip().upper().startswith(_READ_STATEMENTS):
            raise ReadOnlySession(f"write through a read session: {statement.split(None, 1)[0]}")


def writer(engine: Engine) -> Engine:
    """The same engine, but its transactions take the write lock when they begin
    (SQLite's BEGIN IMMEDIATE; PostgreSQL gets the lock timeout)."""
    return engine.execution_options(sqlite_immediate=True)


def reader(engine: Engine) -> Engine:
    """The same engine for reading only: a write through it raises ReadOnlySession."""
    return engine.execution_options(**{READ_ONLY: True})


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """One transaction that commits on success and rolls back on any error.

    Without the outbox: for commands and set-up code that raise no domain events;
    services use lms.context.Context.transaction()."""
    with Session(writer(engine), expire_on_commit=False) as session, session.begin():
        yield session


def read_session(engine: Engine) -> Session:
    return Session(reader(engine), expire_on_commit=False, autoflush=False)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's session, for reading: routers parse and render, services write.

    Opening a session touches no connection, so it is done on the event loop (a sync generator
    would cost every page two hops to the thread pool). Closing one ends its read transaction:
    on SQLite a call into the library that never waits for a lock, done on the loop too; on a
    server a round trip, so it goes to a thread of its own, outside the pool's limit, as FastAPI
    does: with every pool thread waiting for a connection, a close waiting for a pool thread to
    give its connection back would hang them all."""
    engine = request.app.state.engine
    session = read_session(engine)
    request.state.lms_read_session = session
    try:
        yield session
    finally:
        if session.in_transaction() and engine.dialect.name != "sqlite":
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(session.close, limiter=anyio.CapacityLimiter(1))
        else:
            session.close()


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
    # RETURNING says whether a row went in: psycopg reports rowcount -1 for this statement.
    return session.execute(statement.returning(literal_column("1"))).first() is not None
