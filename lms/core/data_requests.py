"""Requests about a person's data and their legal clocks (Law 91/2025/QH15, Decree 356/2025):
acknowledged within 2 working days, carried out within 15 days, or 20 where a processor (the
SMS provider, say) must also stop; one extension of up to 15 days, with its reason. Weekends
do not count as working days; public holidays are not known here, so the clock errs early.

Kinds: "erase" (every plugin erases its part), "restrict" (the data is kept but every optional
purpose stops), "object" (one purpose stops). The person can withdraw a purpose themselves at
once; these requests are for what staff carry out, or for people without an account of their
own, filed by a team member or staff on their behalf."""

from dataclasses import asdict
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from lms.context import Context
from lms.core import consent_services, personal_data_services
from lms.core.models import DataRequest, User
from lms.db import utcnow
from lms.errors import FormErrors, NotFound, ServiceError
from lms.personal_data import ErasureNote
from lms.templating import local

ACK_WORKING_DAYS = 2
COMPLETE_DAYS = 15
WITH_PROCESSOR_DAYS = 20
EXTENSION_MOST_DAYS = 15
SOON = timedelta(days=1)
KINDS = {"erase": "Xoá dữ liệu", "restrict": "Hạn chế xử lý", "object": "Phản đối một mục đích xử lý"}


def add_working_days(start: datetime, days: int) -> datetime:
    moment, left = start, days
    while left:
        moment += timedelta(days=1)
        if local(moment).weekday() < 5:
            left -= 1
    return moment


def file_in(db: Session, *, person: User, filed_by: User, kind: str, purpose: str | None = None) -> DataRequest:
    """A request in the caller's transaction; an open one of the same kind is returned instead."""
    open_one = db.exec(select(DataRequest).where(DataRequest.user_id == person.id, DataRequest.kind == kind,
                                                 DataRequest.completed_at.is_(None))).scalars().first()
    if open_one is not None:
        return open_one
    now = utcnow()
    request = DataRequest(user_id=person.id, commune_id=person.commune_id, kind=kind, purpose=purpose,
                          filed_by_id=filed_by.id, filed_at=now,
                          acknowledge_by=add_working_days(now, ACK_WORKING_DAYS),
                          complete_by=now + timedelta(days=COMPLETE_DAYS))
    db.add(request)
    db.flush()
    return request


def file(ctx: Context, *, person_id: int, filed_by: User, kind: str = "erase",
         purpose: str | None = None) -> DataRequest:
    """The person asks, or a team member or staff of their commune asks for them (recorded as such)."""
    if kind not in KINDS:
        raise NotFound()
    with ctx.transaction() as db:
        person = db.get(User, person_id)
        if person is None or not person.active or not consent_services.may_act_for(filed_by, person):
            raise NotFound()
        if kind == "object":
            optional = {k for k, p in consent_services.purposes(ctx.pm).items() if not p.required}
            if purpose not in optional:
                raise FormErrors({"purpose": "Hãy chọn mục đích muốn phản đối."})
        return file_in(db, person=person, filed_by=filed_by, kind=kind, purpose=purpose if kind == "object" else None)


def file_erasure(ctx: Context, *, person_id: int, filed_by: User) -> DataRequest:
    return file(ctx, person_id=person_id, filed_by=filed_by, kind="erase")


def open_requests(db: Session, *, actor: User) -> list[DataRequest]:
    statement = select(DataRequest).where(DataRequest.completed_at.is_(None)).order_by(DataRequest.complete_by)
    if actor.role != "admin":
        statement = statement.where(DataRequest.commune_id == actor.commune_id)
    return list(db.exec(statement).scalars().all())


def done_requests(db: Session, *, actor: User, limit: int = 50) -> list[DataRequest]:
    """The latest requests carried out: who filed, acknowledged and carried out each, and when."""
    statement = select(DataRequest).where(DataRequest.completed_at.is_not(None))
    if actor.role != "admin":
        statement = statement.where(DataRequest.commune_id == actor.commune_id)
    return list(db.exec(statement.order_by(DataRequest.completed_at.desc()).limit(limit)).scalars().all())


def requests_of(db: Session, *, user_id: int) -> list[DataRequest]:
    return list(db.exec(select(DataRequest).where(DataRequest.user_id == user_id)
                        .order_by(DataRequest.id.desc())).scalars().all())


def pending_of(db: Session, *, user_id: int, kind: str = "erase") -> DataRequest | None:
    return next((r for r in requests_of(db, user_id=user_id) if r.kind == kind), None)


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


def acknowledge(ctx: Context, *, actor: User, request_id: int, processor: bool = False) -> DataRequest:
    """Staff confirm they received it; a processor that must also stop moves the deadline to 20 days."""
    with ctx.transaction() as db:
        request = _mine(db, actor, request_id)
        if request.completed_at is not None:
            raise ServiceError("done", "Yêu cầu này đã được thực hiện.", 409)
        if request.acknowledged_at is None:
            request.acknowledged_at, request.acknowledged_by_id = utcnow(), actor.id
        if processor and not request.processor:
            request.processor = True
            request.complete_by = request.filed_at + timedelta(days=WITH_PROCESSOR_DAYS) + (
                timedelta(days=request.extended_days) if request.extended_days else timedelta())
        db.add(request)
        return request


def extend(ctx: Context, *, actor: User, request_id: int, days_raw: str, reason: str) -> DataRequest:
    """The one extension the law allows: up to 15 days, with a reason the person is told."""
    from lms.text import clean_text

    errors = {}
    days = int(days_raw) if days_raw.strip().isdigit() else 0
    if not 1 <= days <= EXTENSION_MOST_DAYS:
        errors["days"] = f"Gia hạn từ 1 đến {EXTENSION_MOST_DAYS} ngày."
    why = clean_text(reason or "", max_length=300)
    if len(why) < 10:
        errors["reason"] = "Ghi lý do gia hạn (ít nhất 10 ký tự): người yêu cầu sẽ đọc lý do này."
    if errors:
        raise FormErrors(errors)
    with ctx.transaction() as db:
        request = _mine(db, actor, request_id)
        if request.completed_at is not None:
            raise ServiceError("done", "Yêu cầu này đã được thực hiện.", 409)
        if request.extended_days:
            raise ServiceError("extended", "Yêu cầu này đã được gia hạn một lần; luật chỉ cho gia hạn một lần.", 409)
        request.extended_days, request.extension_reason = days, why
        request.extended_at, request.extended_by_id = utcnow(), actor.id
        request.complete_by = request.complete_by + timedelta(days=days)
        db.add(request)
        return request


def carry_out(ctx: Context, *, actor: User, request_id: int) -> DataRequest:
    """Carry the request out through every plugin and close it, in one transaction."""
    with ctx.transaction() as db:
        request = _mine(db, actor, request_id)
        if request.completed_at is not None:
            raise ServiceError("done", "Yêu cầu này đã được thực hiện.", 409)
        person = db.get(User, request.user_id)
        if request.kind == "erase":
            notes = personal_data_services.erase_in(db, ctx.pm, actor=actor, person=person)
        else:
            notes = _stop_purposes(db, ctx, request, person, actor)
        now = utcnow()
        request.acknowledged_at = request.acknowledged_at or now
        request.acknowledged_by_id = request.acknowledged_by_id or actor.id
        request.completed_at, request.completed_by_id = now, actor.id
        request.outcome = [asdict(n) for n in notes]
        db.add(request)
        return request


def _stop_purposes(db: Session, ctx: Context, request: DataRequest, person: User, actor: User) -> list[ErasureNote]:
    """Restrict: every optional purpose the person still grants stops; object: the one named."""
    current = {c.purpose.key: c for c in consent_services.choices(db, ctx.pm, person.id)}
    keys = [request.purpose] if request.kind == "object" else [k for k, c in current.items()
                                                                 if not c.purpose.required]
    notes = []
    for key in keys:
        choice = current.get(key)
        if choice is None:
            continue
        # Recorded even when never given: a purpose counted by default (statistics) stops too.
        if choice.granted or choice.latest is None:
            consent_services.record_decision(db, user=person, purpose=key, granted=False, method="staff",
                                             helper=actor)
        notes.append(ErasureNote(f"consent:{key}", "stopped", 1, choice.purpose.stops))
    return notes
