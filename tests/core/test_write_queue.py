"""SQLite writers of one process queue for the write lock; the queue never outlives a transaction."""

import sqlite3
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from lms.core.models import RateBucket
from lms.db import make_engine, utcnow, write_session
from tests.factories import fresh


@pytest.fixture
def sqlite_only(settings):
    if not settings.resolved_database_url.startswith("sqlite"):
        pytest.skip("SQLite's write lock")


def _bucket(key: str) -> RateBucket:
    return RateBucket(key=key, window_start=utcnow().replace(microsecond=0, second=0), hits=1)


def test_many_threads_writing_at_once_all_get_their_turn(sqlite_only, settings, engine, db):
    errors: list[BaseException] = []
    start = threading.Barrier(24)

    def writer(n: int) -> None:
        start.wait()
        try:
            for i in range(10):
                with write_session(engine) as write:
                    write.add(_bucket(f"luồng-{n}-{i}"))
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    fresh(db)
    assert db.exec(select(func.count()).select_from(RateBucket)).scalar() == 240


def test_a_failed_transaction_leaves_the_queue(sqlite_only, make_settings, engine, db):
    settings = make_settings(database_lock_timeout_seconds=0.5)
    engine = make_engine(settings)
    with write_session(engine) as write:
        write.add(_bucket("một"))
    with pytest.raises(IntegrityError), write_session(engine) as write:
        write.add(_bucket("một"))  # the same key: the commit fails
    # Had the failure kept its place in the queue, this would wait 0.5 s and fail.
    with write_session(engine) as write:
        write.add(_bucket("hai"))
    engine.dispose()


def test_a_writer_outside_the_queue_still_makes_it_wait_then_time_out(sqlite_only, make_settings, engine):
    """Another program (the command line, a backup) holds the lock: the queue waits for it as
    SQLite's own timeout would, then says the database is locked; afterwards writes go on."""
    settings = make_settings(database_lock_timeout_seconds=0.3)
    engine = make_engine(settings)
    outside = sqlite3.connect(settings.resolved_database_url.removeprefix("sqlite:///"), isolation_level=None)
    outside.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(OperationalError, match="database is locked"), write_session(engine) as write:
            write.add(_bucket("chờ"))
    finally:
        outside.execute("ROLLBACK")
        outside.close()
    with write_session(engine) as write:
        write.add(_bucket("sau"))
    engine.dispose()
