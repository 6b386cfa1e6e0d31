"""The events the commune's channels announce (those to come) and offer as a plan task's
evidence (those held)."""

from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from lms.channels import ChannelItem, EvidenceChoice
from lms.core.models import Place
from lms.db import utcnow
from lms.plugins.events.models import KINDS, Event
from lms.plugins.events.services import place_label
from lms.templating import local


def _when(event: Event) -> str:
    return local(event.starts_at).strftime("%H:%M %d/%m/%Y")


def channel_items(db: Session, commune_id: int | None, limit: int) -> list[ChannelItem]:
    statement = (select(Event, Place.name).outerjoin(Place, Place.id == Event.village_id)
                 .where(Event.ends_at > utcnow()).order_by(Event.starts_at, Event.id).limit(limit))
    if commune_id is not None:
        statement = statement.where(Event.commune_id == commune_id)
    items = []
    for event, village in db.execute(statement).all():
        place = place_label(event, village)
        summary = " · ".join(part for part in (KINDS.get(event.kind, ""), _when(event), place) if part)
        items.append(ChannelItem(kind="event", key=f"su-kien:{event.code}", title=event.title, summary=summary,
                                 url=f"/e/{event.code}", published=event.created_at, updated=event.created_at,
                                 commune_id=event.commune_id, starts_at=event.starts_at, place=place))
    return items


def evidence_choices(db: Session, user: Any) -> list[EvidenceChoice]:
    """Events the commune held (begun already), newest first."""
    statement = select(Event).where(Event.starts_at <= utcnow())
    if user.role != "admin":
        if user.commune_id is None:
            return []
        statement = statement.where(Event.commune_id == user.commune_id)
    statement = statement.order_by(Event.starts_at.desc()).limit(200)
    return [EvidenceChoice(key=f"su-kien:{event.code}", group="Sự kiện đã tổ chức",
                           title=f"{event.title} ({_when(event)})", url=f"/e/{event.code}", at=event.starts_at,
                           commune_id=event.commune_id)
            for event in db.execute(statement).scalars()]
