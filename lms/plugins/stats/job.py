"""The daily summary, built off the request path: once when a worker starts (in the
background, so start-up is not held up) and then shortly after each day is over (an hour
after midnight, see summary.GRACE). A dashboard request only reads: the days not summed
yet are counted from the facts, as today always is.

Every worker runs the job; summary.refresh serialises them (the write lock, FOR UPDATE on
PostgreSQL) and is one read when the summary is already up to date."""

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

from lms.db import utcnow
from lms.stats_scope import local_midnight

log = logging.getLogger("lms.stats")

# Look at least this often (a clock change, a day summed by another host), and a little
# after the moment a day becomes summable.
CHECK_EVERY = timedelta(minutes=5)
SLACK = timedelta(seconds=30)


def next_check(now: datetime) -> float:
    """Seconds until the next look: the moment the current day becomes summable, at most
    CHECK_EVERY away."""
    from lms.plugins.stats.summary import GRACE, first_open_day

    summable = local_midnight(first_open_day(now) + timedelta(days=1)) + GRACE + SLACK
    return max(1.0, min(CHECK_EVERY, summable - now).total_seconds())


def summarise(context: Any, *, now: datetime | None = None) -> Any:
    """Sum the days that are over, if any; never raises (the next round tries again).
    Returns the summary's reach, or None when it failed."""
    from lms.plugins.stats import summary

    try:
        return summary.refresh(context.engine, context.pm, now=now)
    except Exception as exc:  # noqa: BLE001 - a background job logs and tries again later
        log.warning("summing the statistics of past days failed (%s); retried later", type(exc).__name__)
        return None


def run(context: Any, stop: threading.Event) -> None:
    while not stop.is_set():
        summarise(context)
        if stop.wait(next_check(utcnow())):
            return


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """The stats router's lifespan (FastAPI merges it into the app's): start the job."""
    stop = threading.Event()
    worker = threading.Thread(target=run, args=(app.state.context, stop), name="lms-stats-summary", daemon=True)
    worker.start()
    try:
        yield
    finally:
        stop.set()
        worker.join(timeout=10)
