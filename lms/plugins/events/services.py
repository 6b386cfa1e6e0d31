"""Events: setting them up, registering (idempotent, within capacity), check-in, attendance."""

import csv
import io
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from lms.context import Context
from lms.core import services as core
from lms.core.models import Place, User
from lms.db import utcnow
from lms.errors import FormErrors, NotFound, ServiceError
from lms.events import record
from lms.forms import MAX_ID
from lms.plugins.courses import services as courses
from lms.plugins.events.events import CheckedIn, EventRegistered
from lms.plugins.events.models import KINDS, Event, EventCourse, Registration
from lms.spreadsheet import safe_cell, with_bom
from lms.templating import VIETNAM, local
from lms.text import InvalidInput, clean_text, fold, normalize_name, normalize_phone, parse_field

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6  # public, not secret; short so the poster QR stays coarse


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


def _event_values(data: EventInput, known_course_ids: set[int]) -> tuple[dict[str, Any], list[int],
                                                                         dict[str, str]]:
    """The checks that need no database: values, chosen courses and problems by field."""
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
    try:
        values["place_text"] = clean_text(data.place_text, max_length=200)
    except InvalidInput as exc:
        errors["place_text"] = str(exc)
    if not data.village_id and not values.get("place_text") and "place_text" not in errors:
        errors["place_text"] = PLACE_NEEDED
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
        capacity = data.capacity.strip()
        # isdigit() alone accepts "²", which int() refuses.
        if not (capacity.isascii() and capacity.isdigit()) or not 1 <= int(capacity) <= 100_000:
            errors["capacity"] = "Sức chứa là số người, từ 1 đến 100000 (để trống nếu không giới hạn)."
        else:
            values["capacity"] = int(capacity)
    course_ids = []
    for raw in data.course_ids:
        if not (raw.isascii() and raw.isdigit()) or int(raw) not in known_course_ids:
            errors["course_ids"] = "Khóa học đã chọn không có trong danh mục."
        else:
            course_ids.append(int(raw))
    return values, course_ids, errors


PLACE_NEEDED = "Chọn thôn/tổ dân phố hoặc ghi địa điểm."


def _event_village(db: Session, raw: str, commune_id: int, values: dict[str, Any],
                   errors: dict[str, str]) -> int | None:
    """The chosen village's id (None: none chosen); a problem with it goes into `errors`."""
    if not raw:
        return None
    village = core.active_village(db, raw) if _is_id(raw) else None
    if village is None or village.parent_id != commune_id:
        errors["village_id"] = "Thôn/tổ dân phố không thuộc xã/phường này."
        if not values.get("place_text"):
            errors.setdefault("place_text", PLACE_NEEDED)
        return None
    return village.id


def _in_scope(db: Session, actor: User, event_id: int) -> Event:
    event = db.get(Event, event_id)
    if event is None or (actor.role != "admin" and event.commune_id != actor.commune_id):
        raise NotFound()
    return event


def save_event(ctx: Context, *, actor: User, data: EventInput, known_course_ids: set[int],
               commune_id: int | None = None, event_id: int | None = None) -> Event:
    """Create an event in `commune_id`, or update `event_id`; FormErrors lists every problem."""
    values, course_ids, errors = _event_values(data, known_course_ids)
    if errors:
        # Every problem at once, without waiting for the write lock.
        with ctx.reading() as db:
            if event_id is not None:
                commune_id = _in_scope(db, actor, event_id).commune_id
            _event_village(db, data.village_id, commune_id or 0, values, errors)
        raise FormErrors(errors)
    with ctx.transaction() as db:
        event = _in_scope(db, actor, event_id) if event_id is not None else None
        if event is None:
            commune = db.get(Place, commune_id) if commune_id else None
            if commune is None or commune.kind != "commune" or (
                    actor.role != "admin" and commune.id != actor.commune_id):
                raise NotFound()
            commune_id = commune.id
        else:
            commune_id = event.commune_id
        values["village_id"] = _event_village(db, data.village_id, commune_id, values, errors)
        if errors:
            raise FormErrors(errors)
        if event is None:
            event = Event(code=_free_code(db), commune_id=commune_id, created_by_id=actor.id, kind=data.kind,
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


# The public pages' statements, built once with bound parameters.
_EVENT_WITH_VILLAGE = (select(Event, Place.name).outerjoin(Place, Place.id == Event.village_id)
                       .where(Event.code == bindparam("code")))
_TICKET = (select(Registration, Event, Place.name, User.active, User.role, User.password_hash.is_(None))
           .join(Event, Event.id == Registration.event_id)
           .outerjoin(Place, Place.id == Event.village_id)
           .outerjoin(User, User.id == Registration.user_id)
           .where(Registration.token == bindparam("token")))


def event_with_village(db: Session, typed: str) -> tuple[Event, str | None] | None:
    """The event a typed code names, with its village's name, in one query (the public form)."""
    row = db.exec(_EVENT_WITH_VILLAGE, params={"code": normalize_event_code(typed)}).first()
    return (row[0], row[1]) if row else None


def place_label(event: Event, village_name: str | None) -> str:
    return ", ".join(p for p in (event.place_text, village_name) if p)


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
    # The optional purposes a form that makes an account asks (core.joining_purposes).
    joining: dict[str, bool] = field(default_factory=dict)


@dataclass
class Registered:
    registration: Registration
    created: bool


@dataclass
class _Checked:
    """A registration form's values after the checks that need no database."""

    name: str | None
    phone: str | None
    audience: str | None


def _checked(data: RegistrationInput, *, user: User | None, helper: User | None) -> _Checked:
    if user is not None:
        return _Checked(user.full_name, user.phone, user.audience)
    errors: dict[str, str] = {}
    name = parse_field(errors, "full_name", normalize_name, data.full_name)
    phone = None
    if data.phone.strip() or helper is None:
        phone = parse_field(errors, "phone", normalize_phone, data.phone)
    if not _is_id(data.village_id):
        errors["village_id"] = VILLAGE_NEEDED
    if data.audience not in core.AUDIENCES:
        errors["audience"] = "Vui lòng chọn bạn thuộc nhóm nào."
    if not data.consent:
        errors["consent"] = ("Cần đồng ý để lưu thông tin đăng ký." if helper is None
                             else "Cần xác nhận người dự đã đồng ý.")
    if errors:
        raise FormErrors(errors)
    return _Checked(name, phone, data.audience)


VILLAGE_NEEDED = "Vui lòng chọn thôn/tổ dân phố nơi bạn sinh sống."


def _is_id(raw: str) -> bool:
    # A number past what the column holds names nothing (and SQLite cannot even bind it).
    raw = (raw or "").strip()
    return raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_ID


def _refuse(ctx: Context, data: RegistrationInput, error: FormErrors) -> NoReturn:
    """Raise the form's problems with the village's too (a read: no lock is waited for)."""
    if "village_id" not in error.errors and _is_id(data.village_id):
        with ctx.reading() as db:
            if core.active_village(db, data.village_id) is None:
                error.errors["village_id"] = VILLAGE_NEEDED
    raise error


def register(ctx: Context, *, event_id: int, data: RegistrationInput, user: User | None = None,
             helper: User | None = None) -> Registered:
    """Register someone for an event, as one unit of work (account, consent, ticket,
    enrolments). Idempotent by form key and by (event, phone)."""
    try:
        checked = _checked(data, user=user, helper=helper)
    except FormErrors as error:
        _refuse(ctx, data, error)
    with ctx.transaction() as db:
        return _register(db, event_id=event_id, data=data, checked=checked, user=user, helper=helper)


def _register(db: Session, *, event_id: int, data: RegistrationInput, checked: _Checked,
              user: User | None, helper: User | None) -> Registered:
    key = (data.idempotency_key or "").strip()[:64] or None
    if key:
        earlier = db.exec(select(Registration).where(Registration.idempotency_key == key)).scalars().first()
        if earlier is not None:
            if earlier.event_id == event_id:
                return Registered(earlier, False)
            key = None  # a form key of another event (a copied form) is no key at all
    # PostgreSQL: with a capacity, one registration at a time per event, so the capacity holds;
    # without one the unique keys (event, phone) and the form key already stop duplicates, and
    # registrations go side by side. SQLite: BEGIN IMMEDIATE already serialises writers.
    event = db.exec(select(Event).where(Event.id == event_id)).scalars().first()
    if event is not None and event.capacity is not None:
        event = db.exec(select(Event).where(Event.id == event_id).with_for_update()).scalars().first()
    if event is None or (helper is not None and helper.role != "admin" and event.commune_id != helper.commune_id):
        raise NotFound()
    name, phone, audience = checked.name, checked.phone, checked.audience
    if user is not None:
        village = db.get(Place, user.village_id) if user.village_id else None
    else:
        village = core.active_village(db, data.village_id)
        if village is None:
            raise FormErrors({"village_id": VILLAGE_NEEDED})
    if phone:
        existing = db.exec(select(Registration).where(
            Registration.event_id == event.id, Registration.phone == phone)).scalars().first()
        if existing is not None:
            return Registered(existing, False)
    state = registration_state(event)
    if state and helper is None:
        raise ServiceError(state, STATE_MESSAGES[state], 409)
    if event.capacity is not None and registered_count(db, event.id) >= event.capacity and helper is None:
        raise ServiceError("full", STATE_MESSAGES["full"], 409)
    if user is not None:
        person = user
    else:
        person = _person(db, name=name, phone=phone, village=village, audience=audience, helper=helper,
                         joining=data.joining)
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
    # Every registration records its consent, an existing account's as a new one's.
    core.record_consent(db, user=person, purpose="events", method="helper" if helper else "self", helper=helper)
    for course_id in course_ids_of(db, event.id):
        courses.enrol(db, user_id=person.id, course_id=course_id, by_user_id=helper.id if helper else None)
    record(db, EventRegistered(registration_id=registration.id, event_id=event.id, user_id=person.id,
                               by_helper=helper is not None))
    return Registered(registration, True)


def _person(db: Session, *, name: str, phone: str | None, village: Place, audience: str | None,
            helper: User | None, joining: dict[str, bool]) -> User:
    """The account behind this phone number, or a new one (with its consents). Nothing about an
    existing account is changed or shown: the registration keeps the name as typed."""
    if phone:
        found = core.learner_by_phone(db, phone)
        if found is not None:
            return found
    try:
        return core.create_learner(db, full_name=name, phone=phone, village=village, audience=audience,
                                   consent_method="helper" if helper else "self", helper=helper,
                                   joining=joining)
    except ServiceError as exc:
        # Made a moment ago by another request (a sign-up, another event): that account it is.
        found = core.learner_by_phone(db, phone) if exc.code == "phone_taken" and phone else None
        if found is None:
            raise
        return found


def _may_be_ticket(token: str) -> bool:
    return bool(token) and len(token) <= 64


def ticket(db: Session, token: str) -> Registration | None:
    if not _may_be_ticket(token):
        return None
    return db.exec(select(Registration).where(Registration.token == token)).scalars().first()


@dataclass(frozen=True)
class TicketView:
    registration: Registration
    event: Event
    village_name: str | None
    claimable: bool
    course_ids: tuple[int, ...]


def ticket_view(db: Session, token: str) -> TicketView | None:
    """What the ticket page shows, in two queries: the registration with its event, village and
    whether its account may be claimed (made at the event: an active learner with no password
    yet), then the event's courses."""
    if not _may_be_ticket(token):
        return None
    row = db.exec(_TICKET, params={"token": token}).first()
    if row is None:
        return None
    registration, event, village_name, active, role, no_password = row
    claimable_now = bool(active) and role == "learner" and bool(no_password)
    return TicketView(registration, event, village_name, claimable_now, tuple(course_ids_of(db, event.id)))


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


def _check_in(db: Session, *, event: Event, actor: User, token: str | None = None,
              registration_id: int | None = None, nonce: str = "") -> CheckIn:
    """Mark attendance once, with the ticket row locked; a scanner retrying with the same
    nonce gets the same answer and counts once."""
    statement = select(Registration).with_for_update()
    if token:
        statement = statement.where(Registration.token == token)
    else:
        statement = statement.where(Registration.id == registration_id)
    registration = db.exec(statement).scalars().first()
    if registration is None:
        raise ServiceError("unknown_ticket", "Không tìm thấy vé này.")
    if registration.event_id != event.id:
        raise ServiceError("other_event", "Vé này không thuộc sự kiện đang điểm danh.")
    nonce = (nonce or "")[:64]
    if registration.checked_in_at is not None:
        same_scan = bool(nonce) and nonce == registration.checkin_nonce
        return CheckIn(registration, same_scan)
    changed = db.execute(update(Registration).where(
        Registration.id == registration.id, Registration.checked_in_at.is_(None)).values(
        checked_in_at=utcnow(), checked_in_by_id=actor.id, checkin_nonce=nonce or None))
    db.refresh(registration)
    if changed.rowcount:
        record(db, CheckedIn(registration_id=registration.id, event_id=event.id,
                             user_id=registration.user_id))
    return CheckIn(registration, bool(changed.rowcount))


def check_in(ctx: Context, *, event_id: int, actor: User, token: str | None = None,
             registration_id: int | None = None, nonce: str = "") -> CheckIn:
    """Check a ticket in (scanned token, or a registration picked from the search)."""
    token = (token or "")[:64] or None
    if not token and not registration_id:
        raise ServiceError("unknown_ticket", "Không đọc được vé.")
    with ctx.transaction() as db:
        event = _in_scope(db, actor, event_id)
        return _check_in(db, event=event, actor=actor, token=token, registration_id=registration_id,
                         nonce=nonce)


def walk_in(ctx: Context, *, event_id: int, data: RegistrationInput, helper: User) -> CheckIn:
    """Someone who came without registering: registered by the helper and checked in, all or nothing."""
    try:
        checked = _checked(data, user=None, helper=helper)
    except FormErrors as error:
        _refuse(ctx, data, error)
    with ctx.transaction() as db:
        done = _register(db, event_id=event_id, data=data, checked=checked, user=None, helper=helper)
        event = _in_scope(db, helper, event_id)
        return _check_in(db, event=event, actor=helper, registration_id=done.registration.id,
                         nonce=data.idempotency_key)


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


# --- Claiming the account a registration made --------------------------------------


def claim_account(ctx: Context, *, ticket_token: str) -> str:
    """The ticket proves possession (a 192-bit token only its holder has): a one-time link to
    set the account's password. Knowing the phone number alone is never enough."""
    with ctx.transaction() as db:
        registration = ticket(db, ticket_token)
        if registration is None:
            raise NotFound()
        person = db.get(User, registration.user_id) if registration.user_id else None
        if person is None or not person.active or person.role != "learner":
            raise NotFound()
        if person.password_hash:
            raise ServiceError("has_password", "Tài khoản này đã có mật khẩu. Hãy đăng nhập bằng số điện "
                                               "thoại và mật khẩu; nếu quên, bấm “Quên mật khẩu”.", 409)
        return core.issue_password_link(db, user=person, purpose="claim").token


def tickets_of(db: Session, *, user_id: int) -> list[tuple[Registration, Event]]:
    """A person's tickets, the coming events first."""
    rows = db.exec(select(Registration, Event).join(Event, Event.id == Registration.event_id)
                   .where(Registration.user_id == user_id).order_by(Event.starts_at.desc())).all()
    return [(r, e) for r, e in rows]


# --- Retention ---------------------------------------------------------------------

EXPIRED_NAME = "Đã xoá khi hết thời hạn lưu trữ"


def anonymise_past(ctx: Context, *, days: int, now: datetime | None = None) -> int:
    """Registrations of events that ended more than `days` ago lose their names and phones;
    the rows stay, so attendance figures do not change. Returns how many were anonymised."""
    from datetime import timedelta

    from lms.text import fold

    cutoff = (now or utcnow()) - timedelta(days=days)
    with ctx.transaction() as db:
        ended = select(Event.id).where(Event.ends_at < cutoff)
        result = db.execute(update(Registration).where(
            Registration.event_id.in_(ended), Registration.full_name != EXPIRED_NAME)
            .values(full_name=EXPIRED_NAME, name_folded=fold(EXPIRED_NAME), phone=None))
        return result.rowcount or 0
