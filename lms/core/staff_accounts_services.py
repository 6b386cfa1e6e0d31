"""Staff help people in: a one-time reset link for someone who lost their password, and new
accounts for staff and team members that start with an invitation link instead of a password.

Proof of possession: the person receives the link on paper (a QR handed over by staff or a
team member), never by knowing a phone number. Every link is a PasswordLink row, so the
table is also the record of who issued which link for whom."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from lms.context import Context
from lms.core.models import PasswordLink, Place, User
from lms.core.services import LINK_HOURS, LINK_PURPOSES, issue_password_link, links_issued_for
from lms.db import utcnow
from lms.errors import FormErrors, NotFound, ServiceError
from lms.forms import MAX_ID
from lms.security import ROLE_LABELS
from lms.templating import local
from lms.text import InvalidInput, normalize_name, normalize_phone, parse_field

NO_PHONE = ("Người này chưa có số điện thoại nên không đăng nhập bằng mật khẩu được. "
            "Hãy in thẻ đăng nhập (mã QR) của tổ công nghệ số cho họ.")
PHONE_HAS_ACCOUNT = ("Số điện thoại này đã có tài khoản ({name}). Tài khoản đó không bị thay đổi; "
                     "nếu cần đổi vai trò, hãy mở trang của người đó.")


@dataclass
class IssuedLink:
    """What the printed page needs: the token exists only here and on the paper."""

    token: str
    person: User
    purpose: str  # reset | invite
    expires_at: datetime
    issued_by: str


# --- Who may reset whom ------------------------------------------------------------


def may_reset(actor: User, target: User) -> bool:
    """Admins reset anyone but themselves; staff reset learners and team members of their commune."""
    if target.id == actor.id:
        return False
    if actor.role == "admin":
        return True
    return (actor.role == "staff" and target.role in ("learner", "team_member")
            and target.commune_id is not None and target.commune_id == actor.commune_id)


def _target_for(db: Session, actor: User, target_id: int) -> User:
    target = db.get(User, target_id)
    # Another commune's people do not exist for staff: the same 404 as a wrong id.
    if target is None or (actor.role != "admin" and target.commune_id != actor.commune_id):
        raise NotFound()
    return target


def check_resettable(actor: User, target: User) -> None:
    if target.id == actor.id:
        raise ServiceError("self_reset", "Bạn đổi mật khẩu của mình tại trang Tài khoản.", 403)
    if not may_reset(actor, target):
        raise ServiceError("forbidden_reset", "Cán bộ xã chỉ cấp liên kết đặt lại mật khẩu cho người học "
                           "và thành viên tổ công nghệ số của xã mình.", 403)
    if not target.active:
        raise ServiceError("inactive", "Tài khoản này đã ngừng hoạt động.", 409)
    if not target.phone:
        raise ServiceError("no_phone", NO_PHONE, 409)


def issue_reset(ctx: Context, *, actor: User, target_id: int) -> IssuedLink:
    """A reset link for a person (the unused older one ends), recorded as issued by `actor`."""
    with ctx.transaction() as db:
        target = _target_for(db, actor, target_id)
        check_resettable(actor, target)
        return _issued(db, target, "reset", actor)


def _issued(db: Session, person: User, purpose: str, actor: User) -> IssuedLink:
    link = issue_password_link(db, user=person, purpose=purpose, created_by=actor, hours=LINK_HOURS[purpose])
    return IssuedLink(link.token, person, purpose, link.expires_at, actor.full_name)


# --- New accounts with an invitation ------------------------------------------------


def roles_for(actor: User) -> list[str]:
    """The roles this person may create accounts with."""
    if actor.role == "admin":
        return ["staff", "team_member"]
    if actor.role == "staff":
        return ["team_member"]
    return []


@dataclass
class AccountInput:
    full_name: str = ""
    phone: str = ""
    role: str = ""
    commune_id: str = ""


def _commune(db: Session, raw: str) -> Place | None:
    try:
        wanted = int(raw)
    except (TypeError, ValueError):
        return None
    if not 1 <= wanted <= MAX_ID:
        return None
    place = db.get(Place, wanted)
    return place if place is not None and place.kind == "commune" and place.active else None


def _checked(db: Session, actor: User, data: AccountInput) -> tuple[str, str, str, Place]:
    errors: dict[str, str] = {}
    name = parse_field(errors, "full_name", normalize_name, data.full_name)
    phone = parse_field(errors, "phone", normalize_phone, data.phone)
    allowed = roles_for(actor)
    if data.role not in allowed:
        errors["role"] = "Chọn vai trò: " + ", ".join(ROLE_LABELS[r].lower() for r in allowed) + "."
    # Staff create accounts of their own commune only, whatever the form says.
    commune = _commune(db, data.commune_id if actor.role == "admin" else str(actor.commune_id or ""))
    if commune is None:
        errors["commune_id"] = "Chọn xã/phường của người này."
    if phone and "phone" not in errors:
        existing = db.exec(select(User.full_name).where(User.phone == phone)).scalars().first()
        if existing is not None:
            errors["phone"] = PHONE_HAS_ACCOUNT.format(name=existing)
    if errors:
        raise FormErrors(errors, code="phone_taken" if set(errors) == {"phone"} and phone else "invalid_input")
    assert name and phone and commune
    return name, phone, data.role, commune


def create_account(ctx: Context, *, actor: User, data: AccountInput) -> IssuedLink:
    """An account with no password and its invitation link (72 hours, used once).

    Admins create staff and team members of any commune, staff team members of theirs."""
    if not roles_for(actor):
        raise ServiceError("forbidden", "Bạn không được tạo tài khoản.", 403)
    with ctx.reading() as db:
        _checked(db, actor, data)  # a typo never waits for the write lock
    with ctx.transaction() as db:
        name, phone, role, commune = _checked(db, actor, data)
        person = User(full_name=name, phone=phone, role=role, commune_id=commune.id)
        try:
            with db.begin_nested():
                db.add(person)
                db.flush()
        except IntegrityError as exc:  # the same phone registered a moment ago (PostgreSQL takes no lock)
            taken = db.exec(select(User.full_name).where(User.phone == phone)).scalars().first() or ""
            raise FormErrors({"phone": PHONE_HAS_ACCOUNT.format(name=taken)}, code="phone_taken") from exc
        return _issued(db, person, "invite", actor)


def account_by_phone(db: Session, actor: User, raw: str) -> User | None:
    """The existing account behind a phone typed in the form, if the actor may open its page."""
    try:
        phone = normalize_phone(raw)
    except InvalidInput:
        return None
    person = db.exec(select(User).where(User.phone == phone)).scalars().first()
    if person is None or (actor.role != "admin" and person.commune_id != actor.commune_id):
        return None
    return person


# --- The record ------------------------------------------------------------------------


@dataclass
class LinkRecord:
    purpose: str
    issued_by: str
    created_at: datetime
    status: str


def link_status(link: PasswordLink, now: datetime) -> str:
    if link.used_at is not None:
        return f"Đã dùng lúc {local(link.used_at).strftime('%H:%M %d/%m/%Y')}"
    if link.revoked_at is not None:
        return "Không còn hiệu lực (đã cấp liên kết mới)"
    if link.expires_at <= now:
        return "Đã hết hạn, chưa dùng"
    return f"Chưa dùng, còn hiệu lực đến {local(link.expires_at).strftime('%H:%M %d/%m/%Y')}"


def link_record(db: Session, *, user_id: int, limit: int = 20) -> list[LinkRecord]:
    """Who issued which password link for this person and what became of it, newest first."""
    now = utcnow()
    return [LinkRecord(LINK_PURPOSES.get(link.purpose, link.purpose), issuer, link.created_at,
                       link_status(link, now))
            for link, issuer in links_issued_for(db, user_id=user_id, limit=limit)]
