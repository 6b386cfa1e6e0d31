"""The events plugin's part of a person's data: registrations (tickets) and check-ins."""

from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from lms.hookspecs import hookimpl
from lms.personal_data import ERASED_NAME, DataSection, ErasureNote, as_rows
from lms.plugins.events.models import Event, Registration
from lms.text import fold


@hookimpl
def personal_data_export(db: Session, user: Any) -> list[DataSection]:
    rows = db.exec(select(Registration).where(Registration.user_id == user.id)
                   .order_by(Registration.id)).scalars().all()
    titles = dict(db.exec(select(Event.id, Event.title)).all())
    return [DataSection("events_registration", "Đăng ký sự kiện", [
        {"Sự kiện": titles.get(r.event_id, ""), **row} for r, row in zip(rows, as_rows(rows, {
            "Họ và tên": "full_name", "Số điện thoại": "phone", "Nhóm": "audience", "Đăng ký lúc": "registered_at",
            "Người đăng ký giúp (mã)": "registered_by_id", "Điểm danh lúc": "checked_in_at"}), strict=True)])]


@hookimpl
def personal_data_erase(db: Session, user: Any, actor: Any) -> list[ErasureNote]:
    rows = db.exec(select(Registration).where(Registration.user_id == user.id)).scalars().all()
    for registration in rows:
        registration.full_name, registration.name_folded = ERASED_NAME, fold(ERASED_NAME)
        registration.phone = None
        db.add(registration)
    return [ErasureNote("events_registration", "anonymised", len(rows),
                        "Giữ lượt đăng ký và có mặt (không kèm tên, số điện thoại) cho số liệu của sự kiện.")]
