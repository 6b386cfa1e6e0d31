"""Domain events: recorded in the outbox by the transaction that raises them, delivered after commit.

Delivery is at least once. Each plugin's `on_event` runs on its own: one that raises is
logged (the event's name and id, the plugin, the exception's type — no personal data) and
tried again later, and never stops the other handlers nor the request that raised the event.
Workers and hosts claim an event before delivering it, so no event is delivered by two at
the same time."""

import dataclasses
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar

from sqlalchemy import insert, or_, select, update
from sqlmodel import Session

from lms import metrics
from lms.core.models import OutboxEvent
from lms.db import read_session, utcnow, writer

log = logging.getLogger("lms.events")

OUTBOX_KEY = "lms_outbox"
# Set by a unit of work that delivers its own events once it commits (Context.transaction).
DELIVERS_KEY = "lms_delivers_after_commit"
CLAIM_FOR = timedelta(minutes=5)
RETRY_FIRST = timedelta(seconds=10)
RETRY_MOST = timedelta(hours=1)


@dataclass(frozen=True)
class DomainEvent:
    """Subclasses set `name` (e.g. "courses.completed") and their own JSON-friendly fields."""

    name: ClassVar[str] = ""
    _by_name: ClassVar[dict[str, type["DomainEvent"]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name:
            DomainEvent._by_name[cls.name] = cls


@dataclass(frozen=True)
class RecordedEvent:
    """An event read back whose class is not loaded here (its plugin is disabled, say)."""

    name: str
    payload: dict[str, Any]

    def __getattr__(self, key: str) -> Any:
        try:
            return self.payload[key]
        except KeyError:
            raise AttributeError(key) from None


def listens_to(*names: str) -> Any:
    """Mark an `on_event` implementation with the events it handles; unmarked ones get all.

    An event nobody listens to is recorded as delivered at once (no extra transactions)."""

    def mark(function: Any) -> Any:
        function.lms_event_names = frozenset(names)
        return function

    return mark


def _handlers(pm: Any, name: str) -> list[Any]:
    out = []
    for impl in pm.hook.on_event.get_hookimpls():
        wanted = getattr(impl.function, "lms_event_names", None)
        if wanted is None or name in wanted:
            out.append(impl)
    return out


@dataclass(frozen=True)
class ClaimedEvent:
    """An event its own transaction recorded and claimed, as delivery needs it."""

    id: int
    name: str
    payload: dict[str, Any]
    attempts: int
    handled: tuple[str, ...] = ()


def record(db: Session, event: DomainEvent) -> None:
    """Write the event in the caller's transaction; it is delivered once that commits."""
    pm = db.info.get("lms_pm")
    interested = pm is None or bool(_handlers(pm, event.name))
    now = utcnow()
    values: dict[str, Any] = {
        "name": event.name, "payload": dataclasses.asdict(event), "created_at": now, "attempts": 0,
        "next_attempt_at": now, "claimed_until": None, "delivered_at": None if interested else now, "handled": []}
    claims = interested and bool(db.info.get(DELIVERS_KEY))
    if claims:
        # Claimed by the transaction that raises it: delivering it after commit takes no second
        # write. Should this worker stop first, the claim lapses and the periodic round delivers.
        values.update(claimed_until=now + CLAIM_FOR, attempts=1)
    # A plain insert: an event is written once and never read back in this transaction.
    table = OutboxEvent.__table__
    event_id = db.execute(insert(table).values(**values).returning(table.c.id)).scalar_one()
    metrics.event_recorded(db, event.name)  # counted by type once the transaction commits
    if interested:
        db.info.setdefault(OUTBOX_KEY, []).append(
            ClaimedEvent(event_id, event.name, values["payload"], values["attempts"]))


def rebuild(name: str, payload: dict[str, Any]) -> Any:
    cls = DomainEvent._by_name.get(name)
    if cls is None:
        return RecordedEvent(name, payload)
    try:
        return cls(**payload)
    except TypeError:
        return RecordedEvent(name, payload)


def _retry_delay(attempts: int) -> timedelta:
    return min(RETRY_FIRST * (2 ** max(0, attempts - 1)), RETRY_MOST)


def _claim(engine: Any, event_id: int, *, due_only: bool) -> OutboxEvent | None:
    now = utcnow()
    with Session(writer(engine), expire_on_commit=False) as db, db.begin():
        statement = update(OutboxEvent).where(
            OutboxEvent.id == event_id, OutboxEvent.delivered_at.is_(None),
            or_(OutboxEvent.claimed_until.is_(None), OutboxEvent.claimed_until < now),
        ).values(claimed_until=now + CLAIM_FOR, attempts=OutboxEvent.attempts + 1)
        if due_only:
            statement = statement.where(OutboxEvent.next_attempt_at <= now)
        if not db.execute(statement).rowcount:
            return None
        return db.get(OutboxEvent, event_id)


def _deliver_one(context: Any, row: OutboxEvent | ClaimedEvent) -> bool:
    event = rebuild(row.name, row.payload)
    handled = list(row.handled or [])
    failed: list[str] = []
    for impl in _handlers(context.pm, row.name):
        if impl.plugin_name in handled:
            continue
        arguments = {"event": event, "context": context}
        try:
            impl.function(**{key: arguments[key] for key in impl.argnames})
        except Exception as exc:  # noqa: BLE001 - a handler's failure must not reach the others
            log.warning("event %s #%s: handler %s failed (%s); will retry", row.name, row.id,
                        impl.plugin_name, type(exc).__name__)
            failed.append(f"{impl.plugin_name}: {type(exc).__name__}")
        else:
            handled.append(impl.plugin_name)
    now = utcnow()
    values: dict[str, Any] = {"claimed_until": None, "handled": handled}
    if failed:
        values.update(next_attempt_at=now + _retry_delay(row.attempts), last_error="; ".join(failed)[:200])
    else:
        values.update(delivered_at=now, last_error=None)
    with Session(writer(context.engine)) as db, db.begin():
        db.execute(update(OutboxEvent).where(OutboxEvent.id == row.id).values(**values))
    return not failed


def deliver_claimed(context: Any, rows: Iterable[ClaimedEvent]) -> int:
    """Deliver events that the transaction which raised them claimed (see record), once it has
    committed; returns how many reached all their handlers. Never raises."""
    delivered = 0
    try:
        for row in rows:
            if _deliver_one(context, row):
                delivered += 1
    except Exception as exc:  # noqa: BLE001 - e.g. the database is busy: the claim lapses, a round retries
        log.warning("delivering events stopped (%s); pending ones are retried later", type(exc).__name__)
    return delivered


def deliver(context: Any, event_ids: Iterable[int] | None = None, *, limit: int = 200) -> int:
    """Deliver these events (just committed), or every due pending one; returns how many
    were delivered to all their handlers. Never raises: what fails stays pending."""
    delivered = 0
    try:
        if event_ids is None:
            ids = pending_ids(context.engine, limit=limit, due_only=True)
            due_only = True
        else:
            ids, due_only = list(event_ids), False
        for event_id in ids:
            row = _claim(context.engine, event_id, due_only=due_only)
            if row is not None and _deliver_one(context, row):
                delivered += 1
    except Exception as exc:  # noqa: BLE001 - e.g. the database is busy: the next round retries
        log.warning("delivering events stopped (%s); pending ones are retried later", type(exc).__name__)
    return delivered


def pending_ids(engine: Any, *, limit: int = 200, due_only: bool = False) -> list[int]:
    statement = select(OutboxEvent.id).where(OutboxEvent.delivered_at.is_(None))
    if due_only:
        statement = statement.where(OutboxEvent.next_attempt_at <= utcnow())
    with read_session(engine) as db:
        return list(db.exec(statement.order_by(OutboxEvent.id).limit(limit)).scalars().all())


def pending(engine: Any, *, limit: int = 200) -> list[OutboxEvent]:
    """Events not yet delivered to every handler, oldest first."""
    with read_session(engine) as db:
        return list(db.exec(select(OutboxEvent).where(OutboxEvent.delivered_at.is_(None))
                            .order_by(OutboxEvent.id).limit(limit)).scalars().all())
