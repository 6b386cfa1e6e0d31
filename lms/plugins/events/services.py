"""Events: setting them up, registering (idempotent, within capacity), check-in, attendance."""

import csv
import io
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from lms.core import services as core
from lms.core.models import Place, User
from lms.db import utcnow
from lms.plugins.courses import services as courses
from lms.plugins.events.models import KINDS, Event, EventCourse, Registration
from lms.spreadsheet import safe_cell, with_bom
from lms.templating import VIETNAM, local
from lms.text import InvalidInput, clean_text, fold, normalize_name, normalize_phone, parse_field

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6  # public, not secret; short so the poster QR stays coarse


class EventError(Exception):
    """A rule was broken; `code` for tests, `message` for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass
class FormProblems(Exception):
    errors: dict[str, str] = field(default_factory=dict)


def new_event_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_event_code(typed: str) -> str:
    return "".join(ch for ch in (typed or "").upper() if ch.isalnum())


def parse_local(raw: str | None) -> datetime | None:
    """A `datetime-local` form value (Vietnam time) as aware UTC; None when empty."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise InvalidInput("Ngày giờ không hợp lệ (ví dụ 2026-12-05 08:00).") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=VIETNAM)
    return parsed.astimezone(ZoneInfo("UTC"))


# --- Setting up ------------------------------------------------------------------


@dataclass
class EventInput:
    title: str = ""
    kind: str = ""
    village_id: str = ""
    place_text: str = ""
    starts_at: str = ""
    ends_at: str = ""
    capacity: str = ""
    registration_opens_at: str = ""
    registration_closes_at: str = ""
    course_ids: list[str] = field(default_factory=list)


def save_event(db: Session, *, commune: Place, data: EventInput, actor: User,
               event: Event | None = None, known_course_ids: set[int]) -> Event:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    try:
        values["title"] = clean_text(data.title, max_length=200)
        if not values["title"]:
            errors["title"] = "Vui lòng nhập tên sự kiện."
    except InvalidInput as exc:
        errors["title"] = str(exc)
    if data.kind not in KINDS:
        errors["kind"] = "Vui lòng chọn loại sự kiện."
    values["village_id"] = None
    if data.village_id:
        village = core.active_village(db, data.village_id)
        if village is None or village.parent_id != commune.id:
            errors["village_id"] = "Thôn/tổ dân phố không thuộc xã/phường này."
        else:
            values["village_id"] = village.id
    try:
        values["place_text"] = clean_text(data.place_text, max_length=200)
    except InvalidInput as exc:
        errors["place_text"] = str(exc)
    if not values.get("village_id") and not values.get("place_text") and "place_text" not in errors:
        errors["place_text"] = "Chọn thôn/tổ dân phố hoặc ghi địa điểm."
    for name in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at"):
        try:
            values[name] = parse_local(getattr(data, name))
        except InvalidInput as exc:
            errors[name] = str(exc)
    if "starts_at" not in errors and values.get("starts_at") is None:
        errors["starts_at"] = "Vui lòng nhập thời gian bắt đầu."
    if "ends_at" not in errors and values.get("ends_at") is None:
        errors["ends_at"] = "Vui lòng nhập thời gian kết thúc."
    if values.get("starts_at") and values.get("ends_at") and values["ends_at"] <= values["starts_at"]:
        errors["ends_at"] = "Thời gian kết thúc phải sau thời gian bắt đầu."
    opens, closes = values.get("registration_opens_at"), values.get("registration_closes_at")
    if opens and closes and closes <= opens:
        errors["registration_closes_at"] = "Hạn đóng đăng ký phải sau lúc mở đăng ký."
    values["capacity"] = None
    if data.capacity.strip():
        if not data.capacity.strip().isdigit() or not 1 <= int(data.capacity) <= 100_000:
            errors["capacity"] = "Sức chứa là số người, từ 1 đến 100000 (để trống nếu không giới hạn)."
        else:
            values["capacity"] = int(data.capacity)
    course_ids = []
    for raw in data.course_ids:
        if not raw.isdigit() or int(raw) not in known_course_ids:
            errors["course_ids"] = "Khóa học đã chọn không có trong danh mục."
        else:
            course_ids.append(int(raw))
    if errors:
        raise FormProblems(errors)
    if event is None:
        event = Event(code=_free_code(db), commune_id=commune.id, created_by_id=actor.id, kind=data.kind,
                      **values)
    else:
        for key, value in values.items():
            setattr(event, key, value)
        event.kind = data.kind
    db.add(event)
    db.flush()
    db.execute(delete(EventCourse).where(EventCourse.event_id == event.id))
    for course_id in sorted(set(course_ids)):
        db.add(EventCourse(event_id=event.id, course_id=course_id))
    return event


def _free_code(db: Session) -> str:
    while True:
        code = new_event_code()
        if db.exec(select(Event.id).where(Event.code == code)).first() is None:
            return code


def event_by_code(db: Session, typed: str) -> Event | None:
    return db.exec(select(Event).where(Event.code == normalize_event_code(typed))).scalars().first()


def course_ids_of(db: Session, event_id: int) -> list[int]:
    statement = select(EventCourse.course_id).where(EventCourse.event_id == event_id)
    return list(db.exec(statement).scalars().all())


def registered_count(db: Session, event_id: int) -> int:
    return db.exec(select(func.count()).select_from(Registration)
                   .where(Registration.event_id == event_id)).one()[0]


def attended_count(db: Session, event_id: int) -> int:
    return db.exec(select(func.count()).select_from(Registration).where(
        Registration.event_id == event_id, Registration.checked_in_at.is_not(None))).one()[0]


def registration_state(event: Event, now: datetime | None = None) -> str | None:
    """None when registration is open, else a reason: not_yet, closed, past."""
    now = now or utcnow()
    if now >= event.ends_at:
        return "past"
    if event.registration_opens_at and now < event.registration_opens_at:
        return "not_yet"
    if event.registration_closes_at and now >= event.registration_closes_at:
        return "closed"
    return None


STATE_MESSAGES = {
    "past": "Sự kiện này đã kết thúc, không nhận đăng ký nữa.",
    "not_yet": "Sự kiện chưa mở đăng ký.",
    "closed": "Sự kiện đã hết hạn đăng ký.",
    "full": "Sự kiện đã đủ số người đăng ký. Xin cảm ơn bạn đã quan tâm.",
}


# --- Registering ---------------------------------------------------------------


@dataclass
class RegistrationInput:
    full_name: str = ""
    phone: str = ""
    village_id: str = ""
    audience: str = ""
    consent: bool = False
    idempotency_key: str = ""


@dataclass
class Registered:
    registration: Registration
    created: bool


def _lock_event(db: Session, event_id: int) -> Event:
    # PostgreSQL: one registration at a time per event, so capacity holds.
    # SQLite: the writing transaction (BEGIN IMMEDIATE) already serialises writers.
    return db.exec(select(Event).where(Event.id == event_id).with_for_update()).scalars().one()


def register(db: Session, *, event: Event, data: RegistrationInput, user: User | None = None,
             helper: User | None = None) -> Registered:
    """Register someone for an event. Idempotent by form key and by (event, phone)."""
    key = (data.idempotency_key or "").strip()[:64] or None
    if key:
        earlier = db.exec(select(Registration).where(Registration.idempotency_key == key)).scalars().first()
        if earlier is not None and earlier.event_id == event.id:
            return Registered(earlier, False)
    errors: dict[str, str] = {}
    name = phone = None
    village = None
    if user is not None:
        name, phone, audience = user.full_name, user.phone, user.audience
        village = db.get(Place, user.village_id) if user.village_id else None
    else:
        name = parse_field(errors, "full_name", normalize_name, data.full_name)
        if data.phone.strip() or helper is None:
            phone = parse_field(errors, "phone", normalize_phone, data.phone)
        village = core.active_village(db, data.village_id)
        if village is None:
            errors["village_id"] = "Vui lòng chọn thôn/tổ dân phố nơi bạn sinh sống."
        audience = data.audience
        if audience not in core.AUDIENCES:
            errors["audience"] = "Vui lòng chọn bạn thuộc nhóm nào."
        if not data.consent:
            errors["consent"] = ("Cần đồng ý để lưu thông tin đăng ký." if helper is None
                                 else "Cần xác nhận người dự đã đồng ý.")
    if errors:
        raise FormProblems(errors)
    event = _lock_event(db, event.id)
    if phone:
        existing = db.exec(select(Registration).where(
            Registration.event_id == event.id, Registration.phone == phone)).scalars().first()
        if existing is not None:
            return Registered(existing, False)
    state = registration_state(event)
    if state and helper is None:
        raise EventError(state, STATE_MESSAGES[state])
    if event.capacity is not None and registered_count(db, event.id) >= event.capacity and helper is None:
        raise EventError("full", STATE_MESSAGES["full"])
    person = user or _person(db, name=name, phone=phone, village=village, audience=audience, helper=helper)
    registration = Registration(
        event_id=event.id, user_id=person.id, token=secrets.token_urlsafe(24), phone=phone,
        full_name=name, name_folded=fold(name), village_id=village.id if village else None,
        audience=audience, idempotency_key=key, registered_by_id=helper.id if helper else None)
    try:
        with db.begin_nested():
            db.add(registration)
    except IntegrityError:
        # The same phone or form key won a race a moment ago: that registration stands.
        winner = db.exec(select(Registration).where(
            (Registration.idempotency_key == key) if key else (Registration.phone == phone),
            Registration.event_id == event.id)).scalars().first()
        if winner is None:
            raise
        return Registered(winner, False)
    for course_id in course_ids_of(db, event.id):
        courses.enrol(db, user_id=person.id, course_id=course_id, by_user_id=helper.id if helper else None)
    return Registered(registration, True)


def _person(db: Session, *, name: str, phone: str | None, village: Place, audience: str,
            helper: User | None) -> User:
    """The account behind this phone number, or a new one. Nothing about an existing account
    is changed or shown: the registration keeps the name as typed."""
    if phone:
        found = db.exec(select(User).where(User.phone == phone)).scalars().first()
        if found is not None:
            return found
    person = User(full_name=name, phone=phone, role="learner", audience=audience, village_id=village.id,
                  commune_id=village.parent_id)
    try:
        with db.begin_nested():
            db.add(person)
    except IntegrityError:
        return db.exec(select(User).where(User.phone == phone)).scalars().one()
    core.record_consent(db, user=person, purpose="event", method="helper" if helper else "self",
                        helper=helper)
    return person


def ticket(db: Session, token: str) -> Registration | None:
    if not token or len(token) > 64:
        return None
    return db.exec(select(Registration).where(Registration.token == token)).scalars().first()


# --- Check-in ---------------------------------------------------------------------


@dataclass
class CheckIn:
    registration: Registration
    first_time: bool


def token_from_scan(scanned: str) -> str:
    """A scanned ticket QR holds the ticket URL; people may also type just the token."""
    value = (scanned or "").strip()
    if "/t/" in value:
        value = value.rsplit("/t/", 1)[1]
    return value.split("?", 1)[0].split("#", 1)[0][:64]


def check_in(db: Session, *, event: Event, actor: User, token: str | None = None,
             registration_id: int | None = None, nonce: str = "") -> CheckIn:
    """Mark attendance once. Runs in the caller's transaction with the ticket row locked;
    a scanner retrying with the same nonce gets the same answer and counts once."""
    statement = select(Registration).with_for_update()
    if token:
        statement = statement.where(Registration.token == token)
    elif registration_id:
        statement = statement.where(Registration.id == registration_id)
    else:
        raise EventError("unknown_ticket", "Không đọc được vé.")
    registration = db.exec(statement).scalars().first()
    if registration is None:
        raise EventError("unknown_ticket", "Không tìm thấy vé này.")
    if registration.event_id != event.id:
        raise EventError("other_event", "Vé này không thuộc sự kiện đang điểm danh.")
    nonce = (nonce or "")[:64]
    if registration.checked_in_at is not None:
        same_scan = bool(nonce) and nonce == registration.checkin_nonce
        return CheckIn(registration, same_scan)
    now = utcnow()
    changed = db.execute(update(Registration).where(
        Registration.id == registration.id, Registration.checked_in_at.is_(None)).values(
        checked_in_at=now, checked_in_by_id=actor.id, checkin_nonce=nonce or None))
    db.refresh(registration)
    return CheckIn(registration, bool(changed.rowcount))


def search(db: Session, *, event: Event, query: str, limit: int = 20) -> list[Registration]:
    query = (query or "").strip()[:100]
    if not query:
        return []
    statement = select(Registration).where(Registration.event_id == event.id)
    digits = "".join(ch for ch in query if ch.isdigit())
    if digits and len(digits) >= 3 and len(digits) == len(query.replace(" ", "")):
        statement = statement.where(Registration.phone.endswith(digits))
    else:
        statement = statement.where(Registration.name_folded.contains(fold(query), autoescape=True))
    return list(db.exec(statement.order_by(Registration.full_name).limit(limit)).scalars().all())


# --- Attendance -----------------------------------------------------------------


@dataclass
class Attendance:
    registered: int
    attended: int
    by_village: list[tuple[str, int, int]]
    by_audience: list[tuple[str, int, int]]
    rows: list[tuple[Registration, str]]


def attendance(db: Session, *, event: Event) -> Attendance:
    rows = db.exec(select(Registration, Place.name).join(Place, Place.id == Registration.village_id,
                                                         isouter=True)
                   .where(Registration.event_id == event.id).order_by(Registration.full_name)).all()
    villages: dict[str, list[int]] = {}
    audiences: dict[str, list[int]] = {}
    for registration, village in rows:
        came = int(registration.checked_in_at is not None)
        for table, label in ((villages, village or "Không rõ"),
                             (audiences, core.AUDIENCES.get(registration.audience or "", "Không rõ"))):
            counts = table.setdefault(label, [0, 0])
            counts[0] += 1
            counts[1] += came
    return Attendance(
        registered=len(rows), attended=sum(r.checked_in_at is not None for r, _ in rows),
        by_village=sorted((k, v[0], v[1]) for k, v in villages.items()),
        by_audience=sorted((k, v[0], v[1]) for k, v in audiences.items()),
        rows=[(r, village or "") for r, village in rows])


HEADERS = ["Họ và tên", "Số điện thoại", "Thôn/tổ dân phố", "Nhóm", "Đăng ký lúc", "Điểm danh lúc"]


def attendance_rows(report: Attendance) -> list[list[Any]]:
    def when(value: datetime | None) -> str:
        return local(value).strftime("%d/%m/%Y %H:%M") if value else ""

    return [[safe_cell(r.full_name), safe_cell(r.phone or ""), safe_cell(village),
             core.AUDIENCES.get(r.audience or "", ""), when(r.registered_at), when(r.checked_in_at)]
            for r, village in report.rows]


def attendance_csv(report: Attendance) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADERS)
    writer.writerows(attendance_rows(report))
    return with_bom(buffer.getvalue())


def attendance_xlsx(report: Attendance, *, title: str) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Danh sách"
    sheet.append([safe_cell(title)])
    sheet.append([f"Đăng ký: {report.registered}", f"Có mặt: {report.attended}"])
    sheet.append(HEADERS)
    for row in attendance_rows(report):
        sheet.append(row)
    summary = book.create_sheet("Tổng hợp")
    summary.append(["Thôn/tổ dân phố", "Đăng ký", "Có mặt"])
    for label, registered, attended in report.by_village:
        summary.append([safe_cell(label), registered, attended])
    summary.append([])
    summary.append(["Nhóm", "Đăng ký", "Có mặt"])
    for label, registered, attended in report.by_audience:
        summary.append([label, registered, attended])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
