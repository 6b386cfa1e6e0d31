"""Recovering a forgotten password with a 6-digit code sent by SMS (or Zalo ZNS).

Proof of possession: the code reaches only the phone. A right code gives a one-time link
(/password/<token>), the same as every other way to set a password. Whether a number has an
account never shows: the same page, about the same time, the same throttling, and a number
without an account gets a code row nobody can match, so typing codes for it answers the same."""

import hashlib
import hmac
import logging
import math
import secrets
import threading
import time
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlmodel import Session

from lms import metrics
from lms.context import Context
from lms.core.models import RecoveryCode, User
from lms.core.services import issue_password_link
from lms.db import utcnow
from lms.errors import FormErrors, ServiceError
from lms.plugin_host import flatten
from lms.ratelimit import hit, window_start
from lms.text import InvalidInput, normalize_phone

log = logging.getLogger(__name__)

CODE_MINUTES = 5
CODE_TRIES = 5
LINK_HOURS = 1  # the link a right code gives is used at once, on the same phone

SENT = ("Nếu số này có tài khoản, mã gồm 6 chữ số đã được gửi tới số đó bằng tin nhắn. "
        "Mã có hiệu lực trong 5 phút.")
SMS_FAILED = "Chưa gửi được tin nhắn, vui lòng thử lại sau ít phút."
NO_SMS = ("Nơi này chưa có dịch vụ gửi tin nhắn nên chưa thể nhận mã qua điện thoại. Hãy nhờ tổ công nghệ số "
          "cộng đồng hoặc cán bộ xã cấp liên kết đặt lại mật khẩu.")
PHONE_THROTTLED = ("Bạn đã yêu cầu mã cho số này nhiều lần. Vui lòng chờ {minutes} phút rồi thử lại, "
                   "hoặc nhờ cán bộ xã hỗ trợ.")
CLIENT_THROTTLED = ("Thiết bị này đã yêu cầu quá nhiều mã. Vui lòng chờ {minutes} phút rồi thử lại, "
                    "hoặc nhờ cán bộ xã hỗ trợ.")
TRIES_THROTTLED = "Thiết bị này đã nhập mã quá nhiều lần. Vui lòng chờ {minutes} phút rồi thử lại."
CODE_WRONG = "Mã không đúng. Bạn còn {tries} lần thử."
CODE_DEAD = (f"Mã không đúng. Bạn đã nhập sai {CODE_TRIES} lần nên mã này không dùng được nữa: "
             "hãy bấm “Gửi lại mã” để nhận mã mới.")
CODE_GONE = "Mã không đúng hoặc đã hết hạn (sau 5 phút). Hãy bấm “Gửi lại mã” để nhận mã mới."
CODE_FORMAT = "Mã gồm 6 chữ số, ví dụ 123456."


# --- Gateways ---------------------------------------------------------------------------


def gateways(ctx: Context) -> list[Any]:
    return flatten(ctx.pm.hook.sms_gateways(context=ctx))


def active_gateway(ctx: Context) -> Any | None:
    """The gateway LMS_SMS_GATEWAY names; by default "http" when a URL is set, else "dev"."""
    found = {gateway.name: gateway for gateway in gateways(ctx)}
    name = ctx.settings.sms_gateway.strip()
    if name == "none":
        return None
    if not name:
        name = "http" if ctx.settings.sms_http_url else "dev"
    return found.get(name)


@dataclass
class _Outcome:
    at: float
    seconds: float
    ok: bool


class _GatewayTiming:
    """How long real sends take and whether the last one failed, per gateway (this process).

    A number without an account sends nothing; it waits as long as a send takes, and while
    the gateway is failing it gets the same failure, so neither time nor answer tells."""

    RECENT_SECONDS = 600

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._typical: dict[str, float] = {}
        self._last: dict[str, _Outcome] = {}

    def record(self, name: str, seconds: float, ok: bool) -> None:
        with self._lock:
            self._last[name] = _Outcome(time.monotonic(), seconds, ok)
            if ok:
                before = self._typical.get(name)
                self._typical[name] = seconds if before is None else 0.7 * before + 0.3 * seconds

    def imitate(self, gateway: Any, timeout: float) -> bool:
        """Wait like a send to this gateway; False when a real send would fail now."""
        with self._lock:
            last = self._last.get(gateway.name)
            typical = self._typical.get(gateway.name, float(getattr(gateway, "typical_seconds", 0.0)))
        failing = last is not None and not last.ok and time.monotonic() - last.at < self.RECENT_SECONDS
        time.sleep(min(last.seconds if failing and last else typical, timeout))
        return not failing


timing = _GatewayTiming()


def _send(gateway: Any, phone: str, text: str) -> None:
    started = time.monotonic()
    try:
        gateway.send(phone, text)
    except Exception as exc:
        timing.record(gateway.name, time.monotonic() - started, ok=False)
        metrics.sms_sent(gateway.name, ok=False)
        # Never the phone, the text or the provider's answer: only which gateway and the error type.
        log.warning("sms gateway %s failed: %s", gateway.name, getattr(exc, "code", type(exc).__name__))
        message = exc.message if isinstance(exc, ServiceError) else SMS_FAILED
        raise ServiceError("sms_failed", message, 503) from None
    timing.record(gateway.name, time.monotonic() - started, ok=True)
    metrics.sms_sent(gateway.name, ok=True)


# --- Codes ------------------------------------------------------------------------------


def _phone_digest(secret: str, phone: str) -> str:
    return hmac.new(secret.encode(), f"recovery:{phone}".encode(), hashlib.sha256).hexdigest()


def _throttle_key(secret: str, phone: str) -> str:
    # A digest of its own (64 characters, as the rate limit's key holds), not the row's key.
    return hmac.new(secret.encode(), f"recovery-limit:{phone}".encode(), hashlib.sha256).hexdigest()


def _code_digest(secret: str, phone: str, code: str) -> str:
    return hmac.new(secret.encode(), f"recovery-code:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def _phone(raw: str) -> str:
    try:
        return normalize_phone(raw)
    except InvalidInput as exc:
        raise FormErrors({"phone": str(exc)}) from exc


def _code(raw: str) -> str:
    value = unicodedata.normalize("NFKC", raw or "")
    value = "".join(ch for ch in value if ch not in " .-\u00a0")
    if len(value) != 6 or not value.isascii() or not value.isdigit():
        raise FormErrors({"code": CODE_FORMAT})
    return value


def _minutes_left(settings: Any) -> int:
    window = settings.recovery_window_minutes * 60
    now = utcnow()
    ends = window_start(now, window) + timedelta(seconds=window)
    return max(1, math.ceil((ends - now).total_seconds() / 60))


def _store(db: Session, *, phone_digest: str, user_id: int | None, code_digest: str) -> None:
    """The one live code of this number, replacing an older one."""
    now = utcnow()
    db.execute(delete(RecoveryCode).where(RecoveryCode.phone_digest == phone_digest))
    db.add(RecoveryCode(phone_digest=phone_digest, user_id=user_id, code_digest=code_digest, created_at=now,
                        expires_at=now + timedelta(minutes=CODE_MINUTES), tries_left=CODE_TRIES))


def request_code(ctx: Context, *, phone_raw: str, client: str) -> str:
    """Send a code to this number if it has an account; returns the phone in canonical form.

    The code is stored only after the gateway took it: a failed or timed-out send leaves no
    code behind (and an earlier code, if any, still works)."""
    phone = _phone(phone_raw)
    gateway = active_gateway(ctx)
    if gateway is None:
        raise ServiceError("sms_unavailable", NO_SMS, 503)
    settings = ctx.settings
    secret = settings.resolved_secret_key()
    window = settings.recovery_window_minutes * 60
    digest = _phone_digest(secret, phone)
    with ctx.transaction() as db:
        # Both are counted, account or not: the limits must not tell either.
        client_ok = hit(db, key=client, limit=settings.recovery_requests_per_client, window_seconds=window)
        phone_ok = hit(db, key=_throttle_key(secret, phone), limit=settings.recovery_codes_per_phone,
                       window_seconds=window)
        user = db.exec(select(User).where(User.phone == phone, User.active.is_(True))).scalars().first()
        user_id = user.id if user else None
    if not client_ok:
        raise ServiceError("throttled", CLIENT_THROTTLED.format(minutes=_minutes_left(settings)), 429)
    if not phone_ok:
        raise ServiceError("throttled", PHONE_THROTTLED.format(minutes=_minutes_left(settings)), 429)
    code = f"{secrets.randbelow(10**6):06d}"
    if user_id is not None:
        text = settings.sms_recovery_text.replace("{code}", code).replace("{site}", settings.site_name)
        _send(gateway, phone, text)  # no transaction is open while the provider answers
        code_digest = _code_digest(secret, phone, code)
    else:
        if not timing.imitate(gateway, settings.sms_http_timeout_seconds):
            raise ServiceError("sms_failed", SMS_FAILED, 503)
        code_digest = secrets.token_hex(32)  # matches no code
    with ctx.transaction() as db:
        _store(db, phone_digest=digest, user_id=user_id, code_digest=code_digest)
    return phone


def verify_code(ctx: Context, *, phone_raw: str, code_raw: str, client: str) -> str:
    """A right code ends the code and returns a one-time link token; a wrong one costs a try.

    The try and the client's hit are committed before the refusal is raised."""
    phone = _phone(phone_raw)
    code = _code(code_raw)
    settings = ctx.settings
    secret = settings.resolved_secret_key()
    refused: ServiceError | None = None
    token = ""
    with ctx.transaction() as db:
        if not hit(db, key=client, limit=settings.recovery_tries_per_client,
                   window_seconds=settings.recovery_window_minutes * 60):
            refused = ServiceError("throttled", TRIES_THROTTLED.format(minutes=_minutes_left(settings)), 429)
        else:
            # Locked: two wrong codes at once both cost a try.
            row = db.exec(select(RecoveryCode).where(RecoveryCode.phone_digest == _phone_digest(secret, phone))
                          .with_for_update()).scalars().first()
            user = db.get(User, row.user_id) if row is not None and row.user_id is not None else None
            if row is None or row.tries_left <= 0 or row.expires_at <= utcnow():
                refused = ServiceError("code_gone", CODE_GONE)
            elif hmac.compare_digest(row.code_digest, _code_digest(secret, phone, code)) \
                    and user is not None and user.active:
                db.delete(row)
                token = issue_password_link(db, user=user, purpose="reset", hours=LINK_HOURS).token
            else:
                row.tries_left -= 1
                db.add(row)
                refused = ServiceError("code_wrong", CODE_WRONG.format(tries=row.tries_left)) if row.tries_left \
                    else ServiceError("code_dead", CODE_DEAD)
    if refused is not None:
        raise refused
    return token
