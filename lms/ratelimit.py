"""A fixed-window rate limit kept in the database, so it holds across workers and hosts."""

import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Any

from fastapi import Request
from sqlalchemy import delete
from sqlmodel import Session

from lms.core.models import RateBucket
from lms.db import utcnow


def client_key(request: Request, scope: str) -> str:
    """A keyed digest of the client address: no readable IP address is stored."""
    secret = request.app.state.settings.resolved_secret_key()
    address = request.client.host if request.client else "unknown"
    return hmac.new(secret.encode(), f"{scope}:{address}".encode(), hashlib.sha256).hexdigest()


def window_start(now: datetime, window_seconds: int) -> datetime:
    epoch = int(now.timestamp()) // window_seconds * window_seconds
    return datetime.fromtimestamp(epoch, tz=now.tzinfo)


def hit(db: Session, *, key: str, limit: int, window_seconds: int = 60,
        now: datetime | None = None) -> bool:
    """Count one hit; False when the key is over `limit` in the current window."""
    now = now or utcnow()
    window = window_start(now, window_seconds)
    table = RateBucket.__table__
    if db.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table).values(key=key, window_start=window, hits=1)
    statement = statement.on_conflict_do_update(
        index_elements=["key", "window_start"], set_={"hits": table.c.hits + 1},
    ).returning(table.c.hits)
    hits = db.execute(statement).scalar_one()
    if hits == 1:
        # First hit of a window: clear windows long gone, so the table stays small.
        db.execute(delete(RateBucket).where(RateBucket.window_start < now - timedelta(hours=1)))
    return hits <= limit


class MemoryWindow:
    """A fixed-window limit in this worker's memory: no database write per hit, for limits on
    reads that succeed (each worker allows `limit`, so an installation allows workers × limit).
    Keys are client digests; the table is bounded, dropping the oldest windows first."""

    def __init__(self, max_keys: int = 20_000) -> None:
        import threading

        self._lock = threading.Lock()
        self._hits: dict[str, tuple[int, int]] = {}
        self._max_keys = max_keys

    def hit(self, key: str, *, limit: int, window_seconds: int = 60, now: float | None = None) -> bool:
        import time

        window = int((time.time() if now is None else now) // window_seconds)
        with self._lock:
            started, hits = self._hits.get(key, (window, 0))
            hits = hits + 1 if started == window else 1
            self._hits[key] = (window, hits)
            if len(self._hits) > self._max_keys:
                for old in [k for k, (w, _) in self._hits.items() if w < window] or list(self._hits)[:1]:
                    del self._hits[old]
        return hits <= limit


def memory_window(state: Any, name: str) -> MemoryWindow:
    """The worker's window kept on app.state under `name`, made on first use."""
    window = getattr(state, name, None)
    if window is None:
        window = MemoryWindow()
        setattr(state, name, window)
    return window
