"""Requests about a person's data and their legal clocks (Law 91/2025/QH15, Decree 356/2025):
acknowledged within 2 working days, carried out within 15 days. Weekends do not count as
working days; public holidays are not known here, so the clock errs on the early side."""

from dataclasses import asdict
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from lms.context import Context
from lms.core import personal_data_services
from lms.core.models import DataRequest, User
from lms.db import utcnow
from lms.errors import NotFound, ServiceError
from lms.templating import local

ACK_WORKING_DAYS = 2
COMPLETE_DAYS = 15
SOON = timedelta(days=1)


def add_working_days(start: datetime, days: int) -> datetime:
    moment, left = start, days
    while left:
        moment += timedelta(days=1)
        if local(moment).weekday() < 5:
            left -= 1
    return moment


def file_erasure(ctx: Context, *, person_id: int, filed_by: User) -> DataRequest:
    """The person asks (or a team member or staff asks for them) that their data be erased."""
    with ctx.transaction() as db:
        person = db.get(User, person_id)
        if person is None or not person.active:
            raise NotFound()
        if filed_by.id != person.id and filed_by.role not in ("staff", "admin", "team_member"):
            raise NotFound()
        if filed_by.id != person.id and filed_by.role != "admin" and filed_by.commune_id != person.commune_id:
            raise NotFound()
        open_one = db.exec(select(DataRequest).where(DataRequest.user_id == person.id,
                                                     DataRequest.completed_at.is_(None))).scalars().first()
        if open_one is not None:
            return open_one
        now = utcnow()
        request = DataRequest(user_id=person.id, commune_id=person.commune_id, kind="erase", filed_by_id=filed_by.id,
                              filed_at=now, acknowledge_by=add_working_days(now, ACK_WORKING_DAYS),
                              complete_by=now + timedelta(days=COMPLETE_DAYS))
        db.add(request)
        db.flush()
        return request


def open_requests(db: Session, *, actor: User) -> list[DataRequest]:
    statement = select(DataRequest).where(DataRequest.completed_at.is_(None)).order_by(DataRequest.complete_by)
    if actor.role != "admin":
        statement = statement.where(DataRequest.commune_id == actor.commune_id)
    return list(db.exec(statement).scalars().all())


def pending_of(db: Session, *, user_id: int) -> DataRequest | None:
    return db.exec(select(DataRequest).where(DataRequest.user_id == user_id)
                   .order_by(DataRequest.id.desc())).scalars().first()


def due_soon(db: Session, *, actor: User, now: datetime | None = None) -> int:
    """Open requests whose next deadline is within a day (or past): the staff home shows them."""
    moment = (now or utcnow()) + SOON
    return sum(1 for r in open_requests(db, actor=actor)
               if (r.acknowledged_at is None and r.acknowledge_by <= moment) or r.complete_by <= moment)


def _mine(db: Session, actor: User, request_id: int) -> DataRequest:
    request = db.get(DataRequest, request_id)
    if request is None or (actor.role != "admin" and request.commune_id != actor.commune_id):
        raise NotFound()
    return request


def acknowledge(ctx: Context, *, actor: User, request_id: int) -> DataRequest:
    with ctx.transaction() as db:
        request = _mine(db, actor, request_id)
        if request.acknowledged_at is None:
            request.acknowledged_at, request.acknowledged_by_id = utcnow(), actor.id
            db.add(request)
        return request


def carry_out(ctx: Context, *, actor: User, request_id: int) -> DataRequest:
    """Erase through every plugin and close the request, in one transaction."""
    with ctx.transaction() as db:
        request = _mine(db, actor, request_id)
        if request.completed_at is not None:
            raise ServiceError("done", "Yêu cầu này đã được thực hiện.", 409)
        person = db.get(User, request.user_id)
        notes = personal_data_services.erase_in(db, ctx.pm, actor=actor, person=person)
        now = utcnow()
        request.acknowledged_at = request.acknowledged_at or now
        request.acknowledged_by_id = request.acknowledged_by_id or actor.id
        request.completed_at, request.completed_by_id = now, actor.id
        request.outcome = [asdict(n) for n in notes]
        db.add(request)
        return request
