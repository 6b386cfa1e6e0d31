"""`lms certificates verify FILE.json`."""

import json
from pathlib import Path
from typing import Any

import typer
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from lms.settings import Settings

VALID, TAMPERED, REVOKED, UNREADABLE = 0, 1, 2, 3


def verify_file(path: str, settings: Settings | None = None) -> int:
    from lms.db import make_engine

    settings = settings or Settings()
    try:
        document = json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        typer.echo(f"Không đọc được tệp: {exc}", err=True)
        return UNREADABLE
    engine = make_engine(settings)
    try:
        return _verify(document, settings, engine)
    finally:
        engine.dispose()


def _signing_key_exists(settings: Settings, engine: Any) -> bool | None:
    """Whether the installation has a signing key already (None: the database cannot say).

    Checked first because resolving the keys makes one when there is none, and a key made
    now would call every genuine credential tampered."""
    from lms.core.models import SharedKey
    from lms.db import read_session
    from lms.keys import SIGNING_FILE

    if settings.signing_key or (settings.instance_dir / SIGNING_FILE).exists():
        return True
    if not settings.is_multi_host:
        return False
    try:
        with read_session(engine) as db:
            return db.exec(select(SharedKey.name).where(SharedKey.name == "signing_key")).first() is not None
    except SQLAlchemyError:
        return None


def _verify(document: Any, settings: Settings, engine: Any) -> int:
    from lms.db import read_session
    from lms.keys import StartupRefused, installation_keys
    from lms.plugins.certificates import services
    from lms.plugins.certificates.credential import public_key_from_multibase, verify_credential
    from lms.plugins.certificates.models import Certificate

    exists = _signing_key_exists(settings, engine)
    if exists is None:
        typer.echo("Không đọc được khóa của đơn vị cấp từ cơ sở dữ liệu.", err=True)
        return UNREADABLE
    if not exists:
        typer.echo("Không có khóa của đơn vị cấp: chưa đặt LMS_SIGNING_KEY và cơ sở dữ liệu chưa có khóa chung."
                   if settings.is_multi_host else "Không có khóa của đơn vị cấp trong thư mục instance/.", err=True)
        return UNREADABLE
    try:
        settings = installation_keys(settings, engine)
    except StartupRefused as exc:
        typer.echo(str(exc), err=True)
        return UNREADABLE
    except SQLAlchemyError:
        typer.echo("Không đọc được khóa của đơn vị cấp từ cơ sở dữ liệu.", err=True)
        return UNREADABLE
    public_key = public_key_from_multibase(services.issuer_key(settings).public_multibase)
    if not isinstance(document, dict) or not verify_credential(document, public_key):
        typer.echo("BỊ SỬA ĐỔI: chữ ký không khớp với nội dung (hoặc không do đơn vị này cấp).")
        return TAMPERED
    code = services.normalize_code(str(document.get("id", "")).rsplit("/", 1)[-1])
    try:
        with read_session(engine) as db:
            certificate = db.exec(select(Certificate).where(Certificate.code == code)).scalars().first() \
                if code else None
    except Exception:  # noqa: BLE001 - no database here: the signature alone decides
        certificate = None
    name = document.get("credentialSubject", {}).get("name", "")
    if certificate is not None and certificate.revoked_at is not None:
        typer.echo(f"ĐÃ THU HỒI ngày {certificate.revoked_at:%d/%m/%Y} (theo dữ liệu của hệ thống này): "
                   f"{certificate.revoked_reason}")
        return REVOKED
    note = "" if certificate is not None else " (chưa có trong dữ liệu của hệ thống này để xem thu hồi)"
    typer.echo(f"HỢP LỆ: chứng nhận của {name}, chữ ký đúng{note}.")
    return VALID
