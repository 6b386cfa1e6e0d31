"""Settings an administrator chooses in the browser: the installation's name, who signs its
certificates, the SMS gateway.

The defaults are lms.settings; a row of core_installation_setting replaces one; a value given
in the environment (LMS_…, or passed to Settings) wins over both and the form shows it as fixed,
as Moodle does with settings forced in config.php. Each worker applies the rows to its settings
object at start and again when their version changed, looked at no more than every few seconds,
so a change made on one host reaches the others without a restart."""

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from lms.context import Context
from lms.core.models import InstallationSetting, User
from lms.db import read_session, utcnow
from lms.errors import FormErrors
from lms.settings import Settings
from lms.text import InvalidInput, clean_text
from lms.versions import ContentVersion

log = logging.getLogger("lms")

VERSION_NAME = "installation_settings"
REFRESH_SECONDS = 5.0


@dataclass(frozen=True)
class Editable:
    label: str
    max_length: int
    secret: bool = False  # never shown again once saved (the provider's key)
    choices: tuple[str, ...] = ()


EDITABLE: dict[str, Editable] = {
    "site_name": Editable("Tên hệ thống", 80),
    "certificate_signer_title": Editable("Chức danh người ký", 120),
    "certificate_signer_name": Editable("Họ tên người ký", 80),
    "sms_gateway": Editable("Cổng gửi tin nhắn", 20, choices=("", "http", "dev", "none")),
    "sms_http_url": Editable("Địa chỉ API của nhà cung cấp", 500),
    "sms_http_method": Editable("Phương thức", 6, choices=("POST", "GET", "PUT")),
    "sms_http_auth_header": Editable("Dòng xác thực", 500, secret=True),
    "sms_http_body": Editable("Nội dung gửi", 1000),
    "sms_http_content_type": Editable("Kiểu nội dung", 80),
    "sms_http_success_text": Editable("Chữ báo gửi thành công", 80),
}
MULTILINE = {"certificate_signer_title"}


def fixed_names(settings: Settings) -> frozenset[str]:
    """The editable settings given in the environment: the browser cannot change them."""
    return frozenset(name for name in EDITABLE if name in settings.model_fields_set)


class InstallationValues:
    """One worker's view of the chosen settings, applied onto its (shared) settings object."""

    def __init__(self, settings: Settings, engine: Any) -> None:
        self.settings = settings
        self.engine = engine
        self.fixed = fixed_names(settings)
        self.defaults = {name: getattr(settings, name) for name in EDITABLE}
        self.version: int | None = None
        self.generation = 0  # bumped when applied values change: pages kept in memory are made again
        self.checked_at = 0.0
        self.guard = threading.Lock()

    def load(self) -> None:
        """Read the rows and apply them (at start; after a change)."""
        try:
            with read_session(self.engine) as db:
                if not inspect(db.connection()).has_table(InstallationSetting.__tablename__):
                    return  # not migrated yet: `lms migrate` runs before the server
                self.version = _version(db)
                rows = dict(db.execute(select(InstallationSetting.name, InstallationSetting.value)).all())
        except SQLAlchemyError:
            log.warning("installation settings not read: database error")
            return
        self.apply(rows)

    def apply(self, rows: dict[str, str]) -> None:
        changed = False
        for name in EDITABLE:
            if name in self.fixed:
                continue
            value = rows.get(name)
            value = self.defaults[name] if value is None else value
            if getattr(self.settings, name) != value:
                setattr(self.settings, name, value)
                changed = True
        if changed:
            self.generation += 1
        self.checked_at = time.monotonic()

    def refresh_if_stale(self) -> None:
        """At most one version read per worker every REFRESH_SECONDS; never makes a page fail."""
        if time.monotonic() - self.checked_at < REFRESH_SECONDS or not self.guard.acquire(blocking=False):
            return
        try:
            self.checked_at = time.monotonic()
            with read_session(self.engine) as db:
                current = _version(db)
            if current != self.version:
                self.load()
        except SQLAlchemyError:
            log.warning("installation settings not checked: database error")
        finally:
            self.guard.release()

    def value(self, name: str) -> str:
        return getattr(self.settings, name)


def _version(db: Session) -> int | None:
    return db.execute(select(ContentVersion.version).where(ContentVersion.name == VERSION_NAME)).scalar()


def values_of(state: Any) -> InstallationValues:
    return state.installation


def save(ctx: Context, values_store: InstallationValues, *, actor: User, values: dict[str, str],
         names: tuple[str, ...], choices: dict[str, tuple[str, ...]] | None = None) -> dict[str, str]:
    """Check and keep the settings `names` from a form; returns what was kept.

    A secret left empty keeps the one saved before. An empty value of another setting goes back
    to the default. `choices` replaces a setting's fixed choices (the gateways installed)."""
    errors: dict[str, str] = {}
    chosen: dict[str, str | None] = {}
    for name in names:
        spec = EDITABLE[name]
        if name in values_store.fixed:
            continue
        lines = values.get(name, "").splitlines() if name in MULTILINE else [values.get(name, "")]
        try:
            raw = "\n".join(line for line in (clean_text(line, max_length=spec.max_length) for line in lines) if line)
            if len(raw) > spec.max_length:
                raise InvalidInput(f"Tối đa {spec.max_length} ký tự.")
        except InvalidInput as exc:
            errors[name] = f"{spec.label}: {exc}"
            continue
        if spec.secret and not raw:
            continue
        allowed = (choices or {}).get(name, spec.choices)
        if allowed and raw and raw not in allowed:  # empty: back to the default
            errors[name] = f"{spec.label}: chọn một trong các mục có sẵn."
            continue
        chosen[name] = raw or None
    if any(name.startswith("sms_") for name in names):
        # The gateway as it will be: what this form changes over what is in force now.
        _check_sms(errors, {**{n: values_store.value(n) for n in EDITABLE}, **{k: v or "" for k, v in chosen.items()}})
    if "site_name" in chosen and not chosen["site_name"] and "site_name" in names:
        errors["site_name"] = "Nhập tên hệ thống, ví dụ: Bình dân học vụ số xã Nam Sách."
    if errors:
        raise FormErrors(errors)
    with ctx.transaction() as db:
        for name, value in chosen.items():
            row = db.get(InstallationSetting, name)
            if value is None:
                if row is not None:
                    db.delete(row)
                continue
            if row is None:
                row = InstallationSetting(name=name, value=value)
            row.value, row.updated_at, row.updated_by_id = value, utcnow(), actor.id
            db.add(row)
    values_store.load()
    return {name: value or "" for name, value in chosen.items()}


def _check_sms(errors: dict[str, str], merged: dict[str, str]) -> None:
    gateway = merged.get("sms_gateway", "")
    url = merged.get("sms_http_url", "")
    if gateway == "http" and not url:
        errors.setdefault("sms_http_url", "Cổng “http” cần địa chỉ API của nhà cung cấp.")
    if url and not url.lower().startswith(("https://", "http://")):
        errors.setdefault("sms_http_url", "Địa chỉ API bắt đầu bằng https:// (hoặc http:// trong mạng nội bộ).")
    header = merged.get("sms_http_auth_header", "")
    if header and (":" not in header or "\n" in header):
        errors.setdefault("sms_http_auth_header", "Một dòng dạng “Tên: giá trị”, ví dụ: Authorization: Bearer …")
