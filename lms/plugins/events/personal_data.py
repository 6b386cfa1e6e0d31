"""The events plugin's part of a person's data: registrations (tickets) and check-ins."""

from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from lms.consents import ConsentPurpose
from lms.db import utcnow
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


EVENTS_PURPOSE = ConsentPurpose(
    key="events", label="Đăng ký và điểm danh sự kiện", order=30, current="su-kien-2026-12",
    # The first consent text covered registrations too: that text belongs to the core's learning purpose.
    assumed_before=("dang-ky-2026-11",),
    texts={"su-kien-2026-12": (
        "Tôi đồng ý để Ủy ban nhân dân xã/phường lưu họ tên, số điện thoại, thôn/tổ dân phố và nhóm đối "
        "tượng của tôi để đăng ký, cấp vé và điểm danh sự kiện; danh sách người dự chỉ ban tổ chức xem.")},
    stops=("Vé các sự kiện chưa diễn ra bị huỷ; họ tên và số điện thoại trong các lần đăng ký trước được "
           "xoá (chỉ giữ số lượt đăng ký, có mặt). Muốn dự sự kiện sau này, bạn đăng ký và đồng ý lại."),
)


@hookimpl
def consent_purposes() -> list[ConsentPurpose]:
    return [EVENTS_PURPOSE]


def stop_processing(db: Session, *, user_id: int) -> tuple[int, int]:
    """The person withdrew consent for events: tickets of events still to come are cancelled and
    earlier registrations lose the name and phone. Returns (cancelled, anonymised)."""
    now = utcnow()
    rows = db.exec(select(Registration, Event).join(Event, Event.id == Registration.event_id)
                   .where(Registration.user_id == user_id)).all()
    cancelled = anonymised = 0
    for registration, event in rows:
        if event.starts_at > now and registration.checked_in_at is None:
            db.delete(registration)
            cancelled += 1
        elif registration.phone is not None or registration.full_name != ERASED_NAME:
            registration.full_name, registration.name_folded = ERASED_NAME, fold(ERASED_NAME)
            registration.phone = None
            db.add(registration)
            anonymised += 1
    return cancelled, anonymised
