"""The person corrects their own data (Law 91/2025/QH15): name, village, year of birth, phone.

A new phone number is taken only once the person proves they hold it: a 6-digit code sent by
SMS to the new number. The code lives in core_recovery_code like a recovery code, under digests
of their own domain ("phone-change:<user>:<phone>"), so neither flow can use the other's codes.
No message is sent while a transaction is open."""

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from lms.context import Context
from lms.core import recovery_services as recovery
from lms.core.models import Place, RecoveryCode, User, UserSession
from lms.core.services import (
    PlaceChoice,
    active_village,
    authenticate,
    parse_birth_year,
    password_context,
    village_choices,
)
from lms.db import utcnow
from lms.errors import FormErrors, NotFound, ServiceError
from lms.ratelimit import hit
from lms.security import token_digest
from lms.text import InvalidInput, nfc, normalize_name, normalize_phone, parse_field

log = logging.getLogger(__name__)

# --- Name, village, year of birth -----------------------------------------------------------

VILLAGE_REQUIRED = "Vui lòng chọn thôn/tổ dân phố nơi bạn sinh sống."
VILLAGE_UNKNOWN = "Thôn/tổ dân phố này không có trong danh sách. Vui lòng chọn lại."
VILLAGE_OTHER_COMMUNE = "Bạn chỉ chọn được thôn/tổ dân phố thuộc xã/phường của mình."


@dataclass
class ProfileInput:
    full_name: str = ""
    village_id: str = ""
    birth_year: str = ""


def village_required(user: User) -> bool:
    """A learner lives somewhere (as at sign-up); staff, team members and admins may leave it empty."""
    return user.role == "learner"


def profile_villages(db: Session, user: User) -> list[tuple[PlaceChoice | None, list[PlaceChoice]]]:
    """The villages this person may choose, grouped by commune: any active one for a learner,
    those of their own commune for everybody else. The current village stays choosable even if
    it was closed or lies elsewhere since, so correcting the name does not force a move."""
    choices: list[tuple[PlaceChoice | None, list[PlaceChoice]]] = list(village_choices(db))
    if user.role != "learner":
        choices = [(commune, villages) for commune, villages in choices
                   if user.commune_id is not None and commune is not None and commune.id == user.commune_id]
    if user.village_id and not any(v.id == user.village_id for _c, villages in choices for v in villages):
        current = db.get(Place, user.village_id)
        if current is not None:
            commune = db.get(Place, current.parent_id) if current.parent_id else None
            choices.insert(0, (PlaceChoice.of(commune) if commune else None, [PlaceChoice.of(current)]))
    return choices


def _chosen_village(db: Session, user: User, raw: str, errors: dict[str, str]) -> Place | None:
    raw = (raw or "").strip()
    if not raw:
        if village_required(user):
            errors["village_id"] = VILLAGE_REQUIRED
        return None
    if user.village_id is not None and raw == str(user.village_id):
        return db.get(Place, user.village_id)  # kept as it is
    village = active_village(db, raw)
    if village is None:
        errors["village_id"] = VILLAGE_UNKNOWN
        return None
    if user.role != "learner" and village.parent_id != user.commune_id:
        errors["village_id"] = VILLAGE_OTHER_COMMUNE
        return None
    return village


def correct_profile(db: Session, *, user: User, data: ProfileInput) -> User:
    """Check everything first, then write everything: a refusal leaves the row untouched."""
    errors: dict[str, str] = {}
    name = parse_field(errors, "full_name", normalize_name, data.full_name)
    village = _chosen_village(db, user, data.village_id, errors)
    birth_year = parse_field(errors, "birth_year", parse_birth_year, data.birth_year) \
        if (data.birth_year or "").strip() else None
    if errors:
        raise FormErrors(errors)
    user.full_name = name
    user.birth_year = birth_year
    user.village_id = village.id if village else None
    if user.role == "learner" and village is not None:
        user.commune_id = village.parent_id  # a learner belongs to the commune they live in
    db.add(user)  # name_folded follows full_name (a model event)
    return user


def update_profile(ctx: Context, *, user_id: int, data: ProfileInput) -> User:
    with ctx.transaction() as db:
        user = db.get(User, user_id)
        if user is None or not user.active:
            raise NotFound()
        return correct_profile(db, user=user, data=data)


# --- Phone number ---------------------------------------------------------------------------

SAME_PHONE = "Đây đã là số điện thoại của tài khoản bạn."
PHONE_TAKEN = "Số điện thoại này đã có tài khoản khác."
PHONE_RACE = ("Số điện thoại này vừa được một tài khoản khác dùng nên chưa đổi được. "
              "Số điện thoại của bạn vẫn như cũ.")
REAUTH_MISSING = "Vui lòng nhập mật khẩu hiện tại."
REAUTH_WRONG = "Mật khẩu hiện tại không đúng."
NO_SMS = ("Nơi này chưa có dịch vụ gửi tin nhắn nên chưa thể xác nhận số điện thoại mới bằng mã. "
          "Hãy nhờ cán bộ xã hoặc tổ công nghệ số cộng đồng hỗ trợ đổi số điện thoại.")
ACCOUNT_THROTTLED = ("Bạn đã yêu cầu nhiều mã đổi số điện thoại. Vui lòng chờ {minutes} phút rồi thử lại, "
                     "hoặc nhờ cán bộ xã hỗ trợ.")
SENT = "Mã gồm 6 chữ số đã được gửi bằng tin nhắn tới số mới. Mã có hiệu lực trong 5 phút."
# The messages themselves; never the new number in the one to the old phone.
CODE_TEXT = "Mã xác nhận đổi số điện thoại {site}: {code}. Mã hết hạn sau 5 phút. Không đưa mã này cho ai."
NOTICE_TEXT = "Số điện thoại của tài khoản {site} đã được đổi. Nếu không phải bạn, hãy báo cán bộ xã."


def _digest(secret: str, user_id: int, phone: str) -> str:
    return hmac.new(secret.encode(), f"phone-change:{user_id}:{phone}".encode(), hashlib.sha256).hexdigest()


def _code_digest(secret: str, user_id: int, phone: str, code: str) -> str:
    return hmac.new(secret.encode(), f"phone-change-code:{user_id}:{phone}:{code}".encode(),
                    hashlib.sha256).hexdigest()


def _account_key(secret: str, user_id: int) -> str:
    return hmac.new(secret.encode(), f"phone-change-limit:{user_id}".encode(), hashlib.sha256).hexdigest()


def _new_phone(raw: str) -> str:
    try:
        return normalize_phone(raw)
    except InvalidInput as exc:
        raise FormErrors({"phone": str(exc)}) from exc


def sms_available(ctx: Context) -> bool:
    return recovery.active_gateway(ctx) is not None


def _check_password(db: Session, *, user: User, password: str, settings: Any, login_client: str | None) -> None:
    """Re-authentication. A wrong password counts as a failed log-in of this account (and of
    this device), so it cannot be guessed here faster than at the log-in page."""
    if user.phone:
        try:
            authenticate(db, phone_raw=user.phone, password=password, settings=settings, client=login_client)
        except ServiceError as exc:
            if exc.code == "bad_credentials":
                raise FormErrors({"password": REAUTH_WRONG}, code="bad_credentials") from None
            raise
        return
    assert user.password_hash
    if not password_context(settings).verify(nfc(password), user.password_hash):
        if login_client:
            hit(db, key=login_client, limit=settings.login_max_failures_per_client,
                window_seconds=settings.login_window_minutes * 60)
        raise FormErrors({"password": REAUTH_WRONG}, code="bad_credentials")


def request_phone_code(ctx: Context, *, user_id: int, phone_raw: str, password: str, client: str,
                       login_client: str | None = None) -> str:
    """Send a code to the new number; returns the number in canonical form.

    Refusals (a wrong password, a limit reached, a taken number) are raised after what they
    cost was committed. The code is stored only once the gateway took the message."""
    phone = _new_phone(phone_raw)
    gateway = recovery.active_gateway(ctx)
    if gateway is None:
        raise ServiceError("sms_unavailable", NO_SMS, 503)
    settings = ctx.settings
    secret = settings.resolved_secret_key()
    window = settings.recovery_window_minutes * 60
    refused: ServiceError | None = None
    with ctx.transaction() as db:
        user = db.get(User, user_id)
        if user is None or not user.active:
            raise NotFound()
        if user.phone == phone:
            raise FormErrors({"phone": SAME_PHONE})
        if user.password_hash:
            if not password:
                raise FormErrors({"password": REAUTH_MISSING})
            try:
                _check_password(db, user=user, password=password, settings=settings, login_client=login_client)
            except ServiceError as exc:
                refused = exc
        if refused is None:
            # Counted before the number is looked up: asking about many numbers is slowed too.
            client_ok = hit(db, key=client, limit=settings.recovery_requests_per_client, window_seconds=window)
            account_ok = hit(db, key=_account_key(secret, user_id), limit=settings.recovery_codes_per_phone,
                             window_seconds=window)
            if not client_ok:
                refused = ServiceError("throttled", recovery.CLIENT_THROTTLED.format(
                    minutes=recovery._minutes_left(settings)), 429)
            elif not account_ok:
                refused = ServiceError("throttled", ACCOUNT_THROTTLED.format(
                    minutes=recovery._minutes_left(settings)), 429)
            elif db.exec(select(User.id).where(User.phone == phone, User.id != user_id)).first() is not None:
                refused = FormErrors({"phone": PHONE_TAKEN}, code="phone_taken")
        # The recovery code of the current number (if any) is another flow's: left alone.
        recovery_digest = recovery._phone_digest(secret, user.phone) if user.phone else ""
    if refused is not None:
        raise refused
    code = f"{secrets.randbelow(10**6):06d}"
    recovery._send(gateway, phone, CODE_TEXT.format(site=settings.site_name, code=code))
    with ctx.transaction() as db:
        # One live code per person: one asked for earlier (maybe for a mistyped number) ends.
        db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id,
                                              RecoveryCode.phone_digest != recovery_digest))
        recovery._store(db, phone_digest=_digest(secret, user_id, phone), user_id=user_id,
                        code_digest=_code_digest(secret, user_id, phone, code))
    return phone


@dataclass(frozen=True)
class PhoneChanged:
    old_phone: str | None
    new_phone: str


def _take_phone(db: Session, *, user: User, phone: str) -> None:
    if db.exec(select(User.id).where(User.phone == phone, User.id != user.id)).first() is not None:
        raise ServiceError("phone_taken", PHONE_RACE, 409)
    try:
        with db.begin_nested():
            user.phone = phone
            db.add(user)
            db.flush()
    except IntegrityError as exc:  # taken between the check and the write
        raise ServiceError("phone_taken", PHONE_RACE, 409) from exc


def confirm_phone_code(ctx: Context, *, user_id: int, phone_raw: str, code_raw: str, client: str,
                       keep_session: str | None) -> PhoneChanged:
    """A right code changes the number, ends the code and every other session of the person,
    then tells the old number (never naming the new one). A wrong code costs a try, committed
    before the refusal is raised."""
    phone = _new_phone(phone_raw)
    code = recovery._code(code_raw)
    settings = ctx.settings
    secret = settings.resolved_secret_key()
    refused: ServiceError | None = None
    changed: PhoneChanged | None = None
    with ctx.transaction() as db:
        user = db.get(User, user_id)
        if user is None or not user.active:
            raise NotFound()
        if not hit(db, key=client, limit=settings.recovery_tries_per_client,
                   window_seconds=settings.recovery_window_minutes * 60):
            refused = ServiceError("throttled", recovery.TRIES_THROTTLED.format(
                minutes=recovery._minutes_left(settings)), 429)
        else:
            # Locked: two wrong codes at once both cost a try.
            row = db.exec(select(RecoveryCode).where(RecoveryCode.phone_digest == _digest(secret, user_id, phone))
                          .with_for_update()).scalars().first()
            if row is None or row.user_id != user_id or row.tries_left <= 0 or row.expires_at <= utcnow():
                refused = ServiceError("code_gone", recovery.CODE_GONE)
            elif hmac.compare_digest(row.code_digest, _code_digest(secret, user_id, phone, code)):
                old_phone = user.phone
                _take_phone(db, user=user, phone=phone)  # a refusal here rolls everything back
                # This code, and any other of this person (a recovery code for the old number too).
                db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
                others = delete(UserSession).where(UserSession.user_id == user_id)
                if keep_session:
                    others = others.where(UserSession.id != token_digest(keep_session))
                db.execute(others)
                changed = PhoneChanged(old_phone=old_phone, new_phone=phone)
            else:
                row.tries_left -= 1
                db.add(row)
                refused = ServiceError("code_wrong", recovery.CODE_WRONG.format(tries=row.tries_left)) \
                    if row.tries_left else ServiceError("code_dead", recovery.CODE_DEAD)
    if refused is not None:
        raise refused
    assert changed is not None
    _tell_old_phone(ctx, changed)
    return changed


def _tell_old_phone(ctx: Context, changed: PhoneChanged) -> None:
    """Best effort, after the commit: the change stands even if the notice cannot be sent."""
    if not changed.old_phone:
        return
    gateway = recovery.active_gateway(ctx)
    if gateway is None:
        return
    try:
        recovery._send(gateway, changed.old_phone, NOTICE_TEXT.format(site=ctx.settings.site_name))
    except ServiceError:
        log.warning("phone change notice not sent")  # _send logged the gateway and the error type
