"""What a service needs (the database, the plugins, the settings) and the unit of work it runs in."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from lms.db import read_session, writer


@dataclass(frozen=True)
class Context:
    engine: Engine
    pm: Any
    settings: Any
    # The request's read session, when the context comes from a request (context_of).
    reads: Session | None = field(default=None, compare=False, repr=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits when the block ends, rolls back on any exception.

        Events recorded in it (lms.events.record) are delivered once it has committed;
        a failing handler never reaches the caller."""
        from lms.events import DELIVERS_KEY, OUTBOX_KEY, deliver_claimed

        if self.reads is not None:
            # A request holds one connection at a time, so the pool sized to the thread
            # pool always has one free. What it read stays readable (detached) but is not
            # refreshed; its next read takes a connection again.
            self.reads.close()
        with Session(writer(self.engine), expire_on_commit=False) as db:
            db.info["lms_pm"] = self.pm
            db.info[DELIVERS_KEY] = True
            with db.begin():
                yield db
            recorded = db.info.pop(OUTBOX_KEY, [])
        if recorded:
            deliver_claimed(self, recorded)

    def reading(self) -> Session:
        """A session that only reads (a write through it raises)."""
        return read_session(self.engine)


def context_of(request: Any) -> Context:
    """The app's context, from a request (with the request's read session, see transaction)."""
    context: Context = request.app.state.context
    reads = getattr(request.state, "lms_read_session", None)
    return replace(context, reads=reads) if reads is not None else context
