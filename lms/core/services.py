"""Accounts, sessions, log-in throttling, consent, places and the first-administrator link."""

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from passlib.context import CryptContext
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from lms import versions
from lms.context import Context
from lms.core import consent_services, official_places
from lms.core.models import (
    Consent,
    LoginFailure,
    PasswordLink,
    Place,
    SetupToken,
    User,
    UserSession,
)
from lms.db import utcnow
from lms.errors import FormErrors, NotFound, ServiceError
from lms.forms import MAX_ID
from lms.plugin_host import flatten
from lms.security import ROLES, new_token, token_digest
from lms.settings import Settings
from lms.text import InvalidInput, clean_text, fold, nfc, normalize_name, normalize_phone, parse_field

AUDIENCES = {
    "can-bo": "Cán bộ, công chức, viên chức",
    "doanh-nghiep": "Doanh nghiệp, hộ kinh doanh",
    "to-cong-nghe": "Tổ công nghệ số cộng đồng",
    "nguoi-dan": "Người dân",
}
PLACE_KINDS = {"province": "Tỉnh/Thành phố", "commune": "Xã/Phường", "village": "Thôn/Tổ dân phố"}

# Consent texts live with their purposes (lms/core/consent_services.py and each plugin's).
# The first version was one text for learning, certificates and statistics together.
LEGACY_CONSENT = consent_services.LEGACY_TEXT
CURRENT_CONSENT = consent_services.LEARNING.current
PASSWORD_MIN = 8
PASSWORD_MAX = 200
COMMON_PASSWORDS = {"12345678", "123456789", "1234567890", "password", "matkhau123", "11111111",
                    "88888888", "66666666", "00000000", "abc12345", "qwerty123", "iloveyou"}



# --- Passwords -------------------------------------------------------------

_contexts: dict[tuple[int, int], CryptContext] = {}


def password_context(settings: Settings) -> CryptContext:
    from lms.security import make_password_context

    key = (settings.argon2_time_cost, settings.argon2_memory_cost)
    if key not in _contexts:
        _contexts[key] = make_password_context(settings)
    return _contexts[key]


def check_new_password(password: str, confirm: str | None, phone: str | None) -> str | None:
    """The Vietnamese reason a new password is refused, or None."""
    if len(password) < PASSWORD_MIN:
        return f"Mật khẩu cần ít nhất {PASSWORD_MIN} ký tự."
    if len(password) > PASSWORD_MAX:
        return f"Mật khẩu tối đa {PASSWORD_MAX} ký tự."
    if password.lower() in COMMON_PASSWORDS or (phone and phone in password):
        return "Mật khẩu này quá dễ đoán (không dùng số điện thoại hay dãy số quen thuộc)."
    if confirm is not None and password != confirm:
        return "Hai lần nhập mật khẩu không khớp."
    return None


# --- Places ----------------------------------------------------------------


@dataclass(frozen=True)
class PlaceChoice:
    """A place as a picker shows it: kept in memory between requests, so not a database row."""

    id: int
    name: str
    parent_id: int | None

    @classmethod
    def of(cls, place: Place) -> "PlaceChoice":
        return cls(place.id, place.name, place.parent_id)  # type: ignore[arg-type]


def communes(db: Session) -> list[Place]:
    """Every commune and ward, by name (pickers for administrators and visitors)."""
    return list(db.exec(select(Place).where(Place.kind == "commune").order_by(Place.name)).scalars().all())


def village_choices(db: Session, commune_id: int | None = None) -> list[tuple[PlaceChoice, list[PlaceChoice]]]:
    """Active communes with their active villages, for a village picker (one commune's only,
    with `commune_id`: a province holds thousands of villages). Read again only after a place
    changed (lms.versions)."""

    def read() -> list[tuple[PlaceChoice, list[PlaceChoice]]]:
        communes = select(Place).where(Place.kind == "commune", Place.active.is_(True)).order_by(Place.name)
        villages = select(Place).where(Place.kind == "village", Place.active.is_(True)).order_by(Place.name)
        if commune_id is not None:
            communes = communes.where(Place.id == commune_id)
            villages = villages.where(Place.parent_id == commune_id)
        by_commune: dict[int, list[PlaceChoice]] = {}
        for village in db.exec(villages).scalars().all():
            by_commune.setdefault(village.parent_id or 0, []).append(PlaceChoice.of(village))
        return [(PlaceChoice.of(commune), by_commune[commune.id]) for commune in db.exec(communes).scalars().all()
                if commune.id in by_commune]

    return versions.cached(db, "places", ("village_choices", commune_id), read)


def active_village(db: Session, village_id: Any) -> Place | None:
    try:
        wanted = int(village_id)
    except (TypeError, ValueError):
        return None
    if not 1 <= wanted <= MAX_ID:  # no such row, and SQLite cannot even bind it
        return None
    village = db.get(Place, wanted)
    if village is None or village.kind != "village" or not village.active:
        return None
    return village


def add_place(db: Session, *, kind: str, name: str, parent_id: int | None) -> Place:
    if kind not in PLACE_KINDS:
        raise ServiceError("bad_kind", "Loại đơn vị không hợp lệ.")
    try:
        name = clean_text(name, max_length=120)
    except InvalidInput as exc:
        raise FormErrors({"name": str(exc)}) from exc
    if not name:
        raise FormErrors({"name": "Vui lòng nhập tên."})
    expected_parent = {"province": None, "commune": "province", "village": "commune"}[kind]
    if expected_parent is None:
        parent_id = None
    else:
        parent = db.get(Place, parent_id) if parent_id else None
        if parent is None or parent.kind != expected_parent:
            raise ServiceError("bad_parent", "Đơn vị cấp trên không hợp lệ.")
    if _name_taken(db, kind=kind, parent_id=parent_id, name=name):
        raise FormErrors({"name": "Tên này đã có trong danh sách."})
    place = Place(kind=kind, name=name, parent_id=parent_id)
    db.add(place)
    db.flush()
    return place


def _name_taken(db: Session, *, kind: str, parent_id: int | None, name: str,
                but: int | None = None) -> bool:
    # Compared in Python: SQLite's lower() leaves "Đ" and other non-ASCII letters alone.
    siblings = db.exec(
        select(Place.id, Place.name).where(Place.kind == kind, Place.parent_id == parent_id)
    ).all()
    wanted = name.casefold()
    return any(row.name.casefold() == wanted and row.id != but for row in siblings)


def rename_place(db: Session, *, place: Place, name: str) -> Place:
    try:
        name = clean_text(name, max_length=120)
    except InvalidInput as exc:
        raise FormErrors({"name": str(exc)}) from exc
    if not name:
        raise FormErrors({"name": "Vui lòng nhập tên."})
    if _name_taken(db, kind=place.kind, parent_id=place.parent_id, name=name, but=place.id):
        raise FormErrors({"name": "Tên này đã có trong danh sách."})
    place.name = name
    db.add(place)
    return place


# The commune whose plan this platform serves (../seed-plan.md), by its official codes; its
# villages are not in the national list, so the example names them plainly.
DEMO_PLACES = {
    "province": "31",  # Thành phố Hải Phòng
    "commune": "10606",  # Xã Nam Sách
    "villages": ["Thôn ví dụ 1", "Thôn ví dụ 2", "Thôn ví dụ 3", "Thôn ví dụ 4"],
}


def load_demo_places(db: Session) -> Place:
    """The example: Thành phố Hải Phòng → Xã Nam Sách → a few villages; running it again adds nothing."""
    official = next(p for p in official_places.provinces() if p.code == DEMO_PLACES["province"])
    unit = next(u for u in official.communes if u.code == DEMO_PLACES["commune"])
    whole = official_places.OfficialUnit(official.code, official.name)
    province = official_places.upsert(db, kind="province", unit=whole, parent_id=None)
    commune = official_places.upsert(db, kind="commune", unit=unit, parent_id=province.id)
    for name in DEMO_PLACES["villages"]:
        found = db.exec(select(Place).where(Place.kind == "village", Place.name == name,
                                            Place.parent_id == commune.id)).scalars().first()
        if found is None:
            add_place(db, kind="village", name=name, parent_id=commune.id)
    return commune


# --- Accounts --------------------------------------------------------------


@dataclass
class SignupInput:
    full_name: str = ""
    phone: str = ""
    village_id: str = ""
    audience: str = ""
    birth_year: str = ""
    password: str = ""
    password_confirm: str = ""
    consent: bool = False
    # The optional purposes (consent_services.joining), each ticked or not.
    joining: dict[str, bool] = field(default_factory=dict)


def signup(db: Session, *, data: SignupInput, settings: Settings) -> User:
    """Create a learner who signed up themselves, with their consent recorded."""
    errors: dict[str, str] = {}
    name = parse_field(errors, "full_name", normalize_name, data.full_name)
    phone = parse_field(errors, "phone", normalize_phone, data.phone)
    village = active_village(db, data.village_id)
    if village is None:
        errors["village_id"] = "Vui lòng chọn thôn/tổ dân phố nơi bạn sinh sống."
    if data.audience not in AUDIENCES:
        errors["audience"] = "Vui lòng chọn bạn thuộc nhóm nào."
    birth_year = parse_field(errors, "birth_year", parse_birth_year, data.birth_year) \
        if data.birth_year.strip() else None
    problem = check_new_password(nfc(data.password), nfc(data.password_confirm), phone)
    if problem:
        errors["password"] = problem
    if not data.consent:
        errors["consent"] = "Bạn cần đồng ý để chúng tôi lưu thông tin và tạo tài khoản."
    if phone and "phone" not in errors:
        existing = learner_by_phone(db, phone)
        if existing is not None:
            # Made for them at an event or by a team: offer to claim it (with a proof), not a refusal.
            errors["phone"] = PHONE_UNCLAIMED if not existing.password_hash else PHONE_TAKEN_SIGNUP
    if errors:
        raise FormErrors(errors)
    assert village is not None and name and phone
    try:
        return create_learner(db, full_name=name, phone=phone, village=village, audience=data.audience,
                              birth_year=birth_year, password=data.password, settings=settings,
                              joining=data.joining)
    except ServiceError as exc:
        if exc.code == "phone_taken":  # registered a moment ago by another request
            raise FormErrors({"phone": PHONE_TAKEN_SIGNUP}) from exc
        raise


PHONE_TAKEN_SIGNUP = ("Số điện thoại này đã có tài khoản. Hãy đăng nhập, hoặc bấm “Quên mật khẩu” "
                      "ở trang đăng nhập nếu bạn quên mật khẩu.")
PHONE_UNCLAIMED = ("Số này đã có tài khoản, được tạo khi bạn đăng ký sự kiện hoặc được tổ công nghệ số giúp, "
                   "nhưng chưa có mật khẩu. Bạn không cần đăng ký lại: mở vé sự kiện và bấm “Đặt mật khẩu để học "
                   "tiếp”, hoặc nhận mã qua tin nhắn ở “Quên mật khẩu”, hoặc nhờ tổ công nghệ số/cán bộ xã cấp "
                   "liên kết đặt mật khẩu.")


def phone_taken(db: Session, phone: str) -> bool:
    return db.exec(select(User.id).where(User.phone == phone)).first() is not None


def learner_by_phone(db: Session, phone: str) -> User | None:
    return db.exec(select(User).where(User.phone == phone)).scalars().first()


def create_learner(
    db: Session, *, full_name: str, phone: str | None, village: Place, audience: str | None,
    birth_year: int | None = None, password: str | None = None, settings: Settings | None = None,
    consent_method: str = "self", helper: User | None = None, joining: dict[str, bool] | None = None,
) -> User:
    """The one way a learner account is made: by sign-up, at an event, or by a team member.

    Takes values already checked (a normalised name, a canonical phone or None, an active
    village); records the consent to learning the person gave (themselves or through `helper`)
    and, when the form asked them (`joining`), each optional purpose given or refused. Runs in
    the caller's transaction; a phone that already has an account raises
    ServiceError("phone_taken") and leaves the transaction usable."""
    if password is not None and settings is None:
        raise ValueError("hashing a password needs the settings")
    user = User(
        full_name=full_name, phone=phone, role="learner", audience=audience,
        village_id=village.id, commune_id=village.parent_id, birth_year=birth_year,
        password_hash=password_context(settings).hash(nfc(password)) if password is not None else None,
    )
    try:
        with db.begin_nested():
            db.add(user)
            db.flush()
    except IntegrityError as exc:
        raise ServiceError("phone_taken", "Số điện thoại này đã có tài khoản.", 409) from exc
    consent_services.record_joining(db, user=user, chosen=joining, method=consent_method, helper=helper)
    return user


def parse_birth_year(raw: str) -> int:
    value = clean_text(raw, max_length=4)
    this_year = utcnow().year
    if not value.isdigit() or not 1900 <= int(value) <= this_year - 5:
        raise InvalidInput(f"Năm sinh gồm 4 chữ số, từ 1900 đến {this_year - 5}.")
    return int(value)


def joining_purposes(pm: Any) -> list[Any]:
    """The optional purposes every form that makes an account asks (unticked)."""
    return consent_services.joining(pm)


def joining_from_form(pm: Any, values: dict[str, str]) -> dict[str, bool]:
    return {p.key: values.get(f"consent_{p.key}") == "on" for p in consent_services.joining(pm)}


def consent_text(pm: Any, purpose: str) -> str:
    """The text of a purpose's current version, as a form shows it."""
    return consent_services.purposes(pm)[purpose].text


def record_consent(
    db: Session, *, user: User, purpose: str, method: str, helper: User | None = None,
    version: str | None = None,
) -> Consent:
    """The person (or `helper` for them) agreed to this purpose's current text."""
    return consent_services.record_decision(db, user=user, purpose=purpose, granted=True, method=method,
                                            helper=helper, version=version)


def create_user(
    db: Session, *, full_name: str, phone: str, password: str, role: str, settings: Settings,
    commune_id: int | None = None, village_id: int | None = None, audience: str | None = None,
) -> User:
    """An account made by an administrator (command line or set-up page)."""
    if role not in ROLES:
        raise ServiceError("bad_role", f"Vai trò phải là một trong: {', '.join(ROLES)}.")
    name = normalize_name(full_name)
    canonical = normalize_phone(phone)
    problem = check_new_password(nfc(password), None, canonical)
    if problem:
        raise ServiceError("weak_password", problem)
    if db.exec(select(User.id).where(User.phone == canonical)).first():
        raise ServiceError("phone_taken", "Số điện thoại này đã có tài khoản.")
    if role in ("staff", "team_member"):
        commune = db.get(Place, commune_id) if commune_id else None
        if commune is None or commune.kind != "commune":
            raise ServiceError("commune_required", "Cán bộ và thành viên tổ cần thuộc một xã.")
    if village_id is not None:
        village = active_village(db, village_id)
        if village is None:
            raise ServiceError("bad_village", "Thôn/tổ dân phố không hợp lệ.")
        commune_id = village.parent_id
    user = User(
        full_name=name, phone=canonical, role=role, commune_id=commune_id, village_id=village_id,
        audience=audience, password_hash=password_context(settings).hash(nfc(password)),
    )
    db.add(user)
    db.flush()
    return user


# --- Log-in, sessions and throttling --------------------------------------


def _phone_digest(secret: str, phone: str) -> str:
    return hmac.new(secret.encode(), f"login:{phone}".encode(), hashlib.sha256).hexdigest()


def login_wait(db: Session, *, phone: str, settings: Settings, now: datetime) -> int:
    """Minutes to wait before this phone may try again (0: go ahead)."""
    window_start = now - timedelta(minutes=settings.login_window_minutes)
    digest = _phone_digest(settings.resolved_secret_key(), phone)
    failures = db.exec(
        select(LoginFailure.failed_at)
        .where(LoginFailure.phone_digest == digest, LoginFailure.failed_at > window_start)
        .order_by(LoginFailure.failed_at.desc())
        .limit(settings.login_max_failures)
    ).scalars().all()
    if len(failures) < settings.login_max_failures:
        return 0
    # The window frees up once the oldest of the last N failures leaves it.
    free_at = failures[-1] + timedelta(minutes=settings.login_window_minutes)
    seconds = (free_at - now).total_seconds()
    return max(1, int(seconds // 60) + (1 if seconds % 60 else 0))


CLIENT_THROTTLED = ("Thiết bị này đã đăng nhập sai quá nhiều lần. Vui lòng chờ {minutes} phút rồi thử lại, "
                    "hoặc nhờ cán bộ xã hỗ trợ.")


def _client_failures(db: Session, *, client: str, settings: Settings, now: datetime) -> int:
    """Failed log-ins from one client address in the current window (any phone number)."""
    from lms.core.models import RateBucket
    from lms.ratelimit import window_start

    start = window_start(now, settings.login_window_minutes * 60)
    return db.exec(select(RateBucket.hits).where(RateBucket.key == client,
                                                 RateBucket.window_start == start)).scalar() or 0


def authenticate(db: Session, *, phone_raw: str, password: str, settings: Settings,
                 client: str | None = None) -> User:
    """The user for these credentials; failures are counted per phone number and, when
    `client` (a keyed digest of the address) is given, per client: one device trying many
    phones with a guessed password (password spraying) is slowed down too."""
    try:
        phone = normalize_phone(phone_raw)
    except InvalidInput as exc:
        raise FormErrors({"phone": str(exc)}) from exc
    now = utcnow()
    wait = login_wait(db, phone=phone, settings=settings, now=now)
    if wait:
        raise ServiceError(
            "throttled",
            f"Bạn đã đăng nhập sai nhiều lần. Vui lòng chờ {wait} phút rồi thử lại.", 429,
        )
    if client and _client_failures(db, client=client, settings=settings, now=now) \
            >= settings.login_max_failures_per_client:
        raise ServiceError("throttled", CLIENT_THROTTLED.format(minutes=settings.login_window_minutes), 429)
    context = password_context(settings)
    user = db.exec(select(User).where(User.phone == phone)).scalars().first()
    password = nfc(password)
    if user is None or not user.password_hash or not user.active:
        # Spend the same time as a real check so timing reveals no account.
        context.dummy_verify()
        ok, new_hash = False, None
    else:
        ok, new_hash = context.verify_and_update(password, user.password_hash)
    if not ok:
        db.add(LoginFailure(phone_digest=_phone_digest(settings.resolved_secret_key(), phone),
                            failed_at=now))
        if client:
            from lms.ratelimit import hit

            hit(db, key=client, limit=settings.login_max_failures_per_client,
                window_seconds=settings.login_window_minutes * 60, now=now)
        raise ServiceError("bad_credentials", "Số điện thoại hoặc mật khẩu không đúng.")
    assert user is not None
    if new_hash:
        user.password_hash = new_hash
        db.add(user)
    db.execute(
        delete(LoginFailure).where(
            LoginFailure.phone_digest == _phone_digest(settings.resolved_secret_key(), phone)
        )
    )
    return user


def start_session(db: Session, *, user: User, settings: Settings) -> str:
    """A fresh random session (256 bits) for this log-in; returns the cookie value."""
    token = new_token(32)
    now = utcnow()
    db.add(UserSession(
        id=token_digest(token), user_id=user.id, created_at=now, last_seen_at=now,
        expires_at=now + timedelta(days=settings.session_days),
    ))
    # Expired rows are cleared as people log in, so the table does not grow forever.
    db.execute(delete(UserSession).where(UserSession.expires_at < now))
    return token


def end_session(db: Session, *, token: str) -> None:
    db.execute(delete(UserSession).where(UserSession.id == token_digest(token)))


def end_all_sessions(db: Session, *, user_id: int) -> int:
    result = db.execute(delete(UserSession).where(UserSession.user_id == user_id))
    return result.rowcount or 0


def change_password(
    db: Session, *, user: User, current: str, new: str, confirm: str, settings: Settings
) -> str:
    """Sets the new password, ends every session and returns a new one for this browser."""
    context = password_context(settings)
    errors: dict[str, str] = {}
    if not user.password_hash or not context.verify(nfc(current), user.password_hash):
        errors["current"] = "Mật khẩu hiện tại không đúng."
    problem = check_new_password(nfc(new), nfc(confirm), user.phone)
    if problem:
        errors["new"] = problem
    if errors:
        raise FormErrors(errors)
    user = db.get(User, user.id)  # type: ignore[assignment]
    user.password_hash = context.hash(nfc(new))
    user.password_changed_at = utcnow()
    db.add(user)
    end_all_sessions(db, user_id=user.id)  # type: ignore[arg-type]
    return start_session(db, user=user, settings=settings)


def set_role(db: Session, *, actor: User, target: User, role: str, commune_id: int | None) -> User:
    """Change a user's role; staff act only inside their commune and below staff."""
    if role not in ROLES:
        raise ServiceError("bad_role", "Vai trò không hợp lệ.")
    if actor.role != "admin":
        if role not in ("learner", "team_member") or target.role in ("staff", "admin"):
            raise ServiceError("forbidden_role", "Cán bộ xã chỉ giao vai trò người học hoặc "
                               "thành viên tổ công nghệ số.")
        commune_id = actor.commune_id
    if target.id == actor.id:
        raise ServiceError("self_role", "Bạn không thể tự đổi vai trò của mình.")
    if role in ("staff", "team_member"):
        commune_id = commune_id or target.commune_id
        commune = db.get(Place, commune_id) if commune_id else None
        if commune is None or commune.kind != "commune":
            raise ServiceError("commune_required", "Cần chọn xã/phường cho vai trò này.")
        target.commune_id = commune_id
    if target.role != role:
        # What the person may see has changed: pages open elsewhere must not keep the old rights.
        end_all_sessions(db, user_id=target.id)  # type: ignore[arg-type]
    target.role = role
    db.add(target)
    return target


# --- First administrator --------------------------------------------------


def admin_exists(db: Session) -> bool:
    return db.exec(select(User.id).where(User.role == "admin").limit(1)).first() is not None


def create_setup_token(db: Session) -> str:
    token = new_token(32)
    db.add(SetupToken(digest=token_digest(token)))
    return token


def setup_token_valid(db: Session, token: str) -> bool:
    return db.get(SetupToken, token_digest(token)) is not None


def use_setup_token(
    db: Session, *, token: str, full_name: str, phone: str, password: str, confirm: str,
    settings: Settings,
) -> User:
    """Create the first administrator; the link dies with its first use."""
    row = db.get(SetupToken, token_digest(token))
    if row is None or admin_exists(db):
        raise ServiceError("setup_used", "Liên kết thiết lập không còn hiệu lực.")
    errors: dict[str, str] = {}
    try:
        name = normalize_name(full_name)
    except InvalidInput as exc:
        errors["full_name"] = str(exc)
    try:
        canonical = normalize_phone(phone)
    except InvalidInput as exc:
        errors["phone"] = str(exc)
        canonical = None
    problem = check_new_password(nfc(password), nfc(confirm), canonical)
    if problem:
        errors["password"] = problem
    if canonical and db.exec(select(User.id).where(User.phone == canonical)).first():
        errors["phone"] = "Số điện thoại này đã có tài khoản."
    if errors:
        raise FormErrors(errors)
    user = User(full_name=name, phone=canonical, role="admin",
                password_hash=password_context(settings).hash(nfc(password)))
    db.add(user)
    db.execute(delete(SetupToken))
    db.flush()
    return user


def rename_user(db: Session, *, user: User, full_name: str) -> User:
    """Correct a person's name (NFC, checked like at sign-up)."""
    try:
        user.full_name = normalize_name(full_name)
    except InvalidInput as exc:
        raise FormErrors({"full_name": str(exc)}) from exc
    db.add(user)
    return user


# --- Units of work (what the routers call) ----------------------------------------------


def sign_up(ctx: Context, *, data: SignupInput) -> tuple[User, str]:
    """A new learner, signed in; returns the user and the session cookie's value."""
    with ctx.transaction() as db:
        user = signup(db, data=data, settings=ctx.settings)
        token = start_session(db, user=user, settings=ctx.settings)
    return user, token


def log_in(ctx: Context, *, phone_raw: str, password: str, old_session: str | None,
           client: str | None = None) -> tuple[User, str]:
    """Check the credentials and start a session (ending the browser's old one).

    A failed attempt is counted and committed before the refusal is raised: throttling
    must see it even though the log-in failed."""
    refused: ServiceError | None = None
    with ctx.transaction() as db:
        try:
            user = authenticate(db, phone_raw=phone_raw, password=password, settings=ctx.settings,
                                client=client)
        except FormErrors:
            raise
        except ServiceError as exc:
            refused = exc
        else:
            if old_session:
                end_session(db, token=old_session)
            token = start_session(db, user=user, settings=ctx.settings)
    if refused is not None:
        raise refused
    return user, token


def log_out(ctx: Context, *, token: str | None) -> None:
    if token:
        with ctx.transaction() as db:
            end_session(db, token=token)


def new_password(ctx: Context, *, user_id: int, current: str, new: str, confirm: str) -> str:
    """Set a new password; every session ends and this browser gets a new one (returned)."""
    with ctx.transaction() as db:
        user = db.get(User, user_id)
        if user is None:
            raise NotFound()
        return change_password(db, user=user, current=current, new=new, confirm=confirm, settings=ctx.settings)


def first_admin(ctx: Context, *, token: str, full_name: str, phone: str, password: str,
                confirm: str) -> tuple[User, str]:
    with ctx.transaction() as db:
        user = use_setup_token(db, token=token, full_name=full_name, phone=phone, password=password,
                               confirm=confirm, settings=ctx.settings)
        return user, start_session(db, user=user, settings=ctx.settings)


def add_village(ctx: Context, *, commune_id: int, name: str) -> Place:
    with ctx.transaction() as db:
        return add_place(db, kind="village", name=name, parent_id=commune_id)


MAX_VILLAGES_PASTED = 300
_LIST_MARK = re.compile(r"^\s*(?:[-–•*·+]+|\d{1,3}[.)])\s*")


@dataclass
class VillagesAdded:
    added: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)


def add_villages(ctx: Context, *, commune_id: int, text: str) -> VillagesAdded:
    """Villages pasted one per line; names already there are skipped, all or nothing is written."""
    # A list copied from a document keeps its bullets or numbers ("1. Thôn Đông", "- Thôn Tây").
    names: dict[str, tuple[int, str]] = {}  # folded → (line, as first written)
    for number, line in enumerate((text or "").splitlines(), start=1):
        name = _LIST_MARK.sub("", line).strip()
        if name:
            names.setdefault(fold(name), (number, name))
    if not names:
        raise FormErrors({"names": "Vui lòng dán tên các thôn/tổ dân phố, mỗi tên một dòng."})
    if len(names) > MAX_VILLAGES_PASTED:
        raise FormErrors({"names": f"Mỗi lần thêm tối đa {MAX_VILLAGES_PASTED} tên."})
    result = VillagesAdded()
    with ctx.transaction() as db:
        commune = db.get(Place, commune_id)
        if commune is None or commune.kind != "commune":
            raise NotFound()
        present = {fold(p.name) for p in db.exec(select(Place).where(
            Place.kind == "village", Place.parent_id == commune_id)).scalars()}
        for number, name in names.values():
            if fold(name) in present:
                result.already.append(name)
                continue
            try:
                result.added.append(add_place(db, kind="village", name=name, parent_id=commune_id).name)
            except FormErrors as exc:
                raise FormErrors({"names": f"Dòng {number} («{name[:60]}»): {exc.errors['name']}"}) from exc
    return result


@dataclass
class VillageMerge:
    keep: Place
    drop: Place
    items: list[Any]


def _villages_to_merge(db: Session, actor: User, drop_id: int, keep_id: int | None) -> tuple[Place, Place]:
    drop = db.get(Place, drop_id)
    if drop is None or drop.kind != "village" or (actor.role != "admin" and drop.parent_id != actor.commune_id):
        raise NotFound()
    keep = db.get(Place, keep_id) if keep_id else None
    if keep is None or keep.kind != "village" or keep.parent_id != drop.parent_id or keep.id == drop.id:
        raise ServiceError("bad_merge", "Vui lòng chọn một thôn/tổ dân phố khác của cùng xã để gộp vào.")
    return drop, keep


def village_merge_preview(ctx: Context, db: Session, *, actor: User, drop_id: int, keep_id: int | None) -> VillageMerge:
    drop, keep = _villages_to_merge(db, actor, drop_id, keep_id)
    items = [i for i in flatten(ctx.pm.hook.merge_villages(db=db, keep=keep, drop=drop, apply=False)) if i.count]
    return VillageMerge(keep, drop, items)


def merge_villages(ctx: Context, *, actor: User, drop_id: int, keep_id: int | None) -> VillageMerge:
    """Everything of `drop` moves to `keep` (people, events, teams…); `drop` is retired, not deleted,
    so what was counted under it before stays where it happened."""
    with ctx.transaction() as db:
        drop, keep = _villages_to_merge(db, actor, drop_id, keep_id)
        items = [i for i in flatten(ctx.pm.hook.merge_villages(db=db, keep=keep, drop=drop, apply=True)) if i.count]
        drop.active = False
        db.add(drop)
        return VillageMerge(keep, drop, items)


def move_village_people(db: Session, *, keep: Place, drop: Place, apply: bool) -> list[Any]:
    from lms.merging import MergeItem

    count = db.exec(select(func.count()).select_from(User).where(User.village_id == drop.id)).scalar() or 0
    if apply and count:
        db.execute(update(User).where(User.village_id == drop.id).values(village_id=keep.id))
    return [MergeItem("Người dân sống ở thôn", count)]


def import_official_province(ctx: Context, *, code: str) -> "official_places.PlacesImport":
    official = next((p for p in official_places.provinces() if p.code == code), None)
    if official is None:
        raise FormErrors({"province_code": "Vui lòng chọn tỉnh/thành phố trong danh mục."})
    with ctx.transaction() as db:
        return official_places.import_province(db, official)


def new_place(ctx: Context, *, kind: str, name: str, parent_id: int | None) -> Place:
    with ctx.transaction() as db:
        return add_place(db, kind=kind, name=name, parent_id=parent_id)


def rename_village(ctx: Context, *, village_id: int, name: str) -> Place:
    with ctx.transaction() as db:
        village = db.get(Place, village_id)
        if village is None or village.kind != "village":
            raise NotFound()
        return rename_place(db, place=village, name=name)


def set_village_active(ctx: Context, *, village_id: int, active: bool) -> Place:
    with ctx.transaction() as db:
        village = db.get(Place, village_id)
        if village is None or village.kind != "village":
            raise NotFound()
        village.active = active
        db.add(village)
        return village


def change_role(ctx: Context, *, actor: User, target_id: int, role: str, commune_id: int | None) -> User:
    with ctx.transaction() as db:
        target = db.get(User, target_id)
        if target is None:
            raise NotFound()
        return set_role(db, actor=actor, target=target, role=role, commune_id=commune_id)


def end_sessions_of(ctx: Context, *, user_id: int) -> int:
    with ctx.transaction() as db:
        return end_all_sessions(db, user_id=user_id)


# --- One-time password links: claim an account, reset, invitation ------------------------

LINK_PURPOSES = {"claim": "Nhận tài khoản", "reset": "Đặt lại mật khẩu", "invite": "Lời mời"}
LINK_HOURS = {"claim": 1, "reset": 72, "invite": 72}


@dataclass(frozen=True)
class NewPasswordLink:
    """What a printed or sent link needs: the token exists only here and on the paper."""

    token: str
    expires_at: datetime


def issue_password_link(db: Session, *, user: User, purpose: str, created_by: User | None = None,
                        hours: int | None = None) -> NewPasswordLink:
    """A new one-time link (256-bit token, only its digest stored) to set this person's password.

    Earlier unused links of the same person stop working: only the newest one printed or sent
    is valid. Runs in the caller's transaction; the token goes into the URL /password/<token>."""
    if purpose not in LINK_PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r}")
    now = utcnow()
    db.execute(update(PasswordLink).where(
        PasswordLink.user_id == user.id, PasswordLink.used_at.is_(None),
        PasswordLink.revoked_at.is_(None)).values(revoked_at=now))
    token = new_token(32)
    expires_at = now + timedelta(hours=hours or LINK_HOURS[purpose])
    db.add(PasswordLink(digest=token_digest(token), user_id=user.id, purpose=purpose,
                        created_by_id=created_by.id if created_by else None, created_at=now,
                        expires_at=expires_at))
    return NewPasswordLink(token, expires_at)


def password_link(db: Session, token: str) -> tuple[PasswordLink, User] | None:
    """The valid (unused, unrevoked, unexpired) link behind a token and its person, or None."""
    if not token or len(token) > 100:
        return None
    row = db.exec(select(PasswordLink, User).join(User, User.id == PasswordLink.user_id).where(
        PasswordLink.digest == token_digest(token), PasswordLink.used_at.is_(None),
        PasswordLink.revoked_at.is_(None), PasswordLink.expires_at > utcnow(),
        User.active.is_(True))).first()
    return (row[0], row[1]) if row else None


LINK_GONE = ("Liên kết đặt mật khẩu này đã hết hạn hoặc đã được dùng. Hãy nhờ tổ công nghệ số "
             "hoặc cán bộ xã cấp liên kết mới, hoặc dùng “Quên mật khẩu” để nhận mã.")


def set_password_by_link(ctx: Context, *, token: str, new: str, confirm: str) -> tuple[User, str]:
    """Set the password through a one-time link: used once, every other session ends, and this
    browser is signed in (the session token is returned)."""
    with ctx.transaction() as db:
        found = password_link(db, token)
        if found is None:
            raise ServiceError("link_gone", LINK_GONE, 404)
        link, user = found
        problem = check_new_password(nfc(new), nfc(confirm), user.phone)
        if problem:
            raise FormErrors({"new": problem})
        # Conditional on still being unused: two taps on one link set the password once.
        used = db.execute(update(PasswordLink).where(
            PasswordLink.id == link.id, PasswordLink.used_at.is_(None)).values(used_at=utcnow()))
        if not used.rowcount:
            raise ServiceError("link_gone", LINK_GONE, 404)
        user.password_hash = password_context(ctx.settings).hash(nfc(new))
        user.password_changed_at = utcnow()
        db.add(user)
        end_all_sessions(db, user_id=user.id)  # type: ignore[arg-type]
        return user, start_session(db, user=user, settings=ctx.settings)


def links_issued_for(db: Session, *, user_id: int, limit: int = 20) -> list[tuple[PasswordLink, str]]:
    """Who issued which link for this person, newest first (the record staff can see)."""
    rows = db.exec(select(PasswordLink, User.full_name)
                   .join(User, User.id == PasswordLink.created_by_id, isouter=True)
                   .where(PasswordLink.user_id == user_id)
                   .order_by(PasswordLink.created_at.desc()).limit(limit)).all()
    return [(link, name or "Chính người dùng") for link, name in rows]
