"""`lms certificates verify FILE.json`."""

import json
from pathlib import Path

import typer
from sqlalchemy import select
from sqlmodel import Session

from lms.settings import Settings

VALID, TAMPERED, REVOKED, UNREADABLE = 0, 1, 2, 3


def verify_file(path: str, settings: Settings | None = None) -> int:
    from lms.db import make_engine
    from lms.plugins.certificates import services
    from lms.plugins.certificates.credential import public_key_from_multibase, verify_credential
    from lms.plugins.certificates.models import Certificate

    settings = settings or Settings()
    try:
        document = json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        typer.echo(f"Không đọc được tệp: {exc}", err=True)
        return UNREADABLE
    key_file = settings.instance_dir / "issuer_ed25519.pem"
    if not key_file.exists():
        typer.echo("Không có khóa của đơn vị cấp trong thư mục instance/.", err=True)
        return UNREADABLE
    public_key = public_key_from_multibase(services.issuer_key(settings).public_multibase)
    if not isinstance(document, dict) or not verify_credential(document, public_key):
        typer.echo("BỊ SỬA ĐỔI: chữ ký không khớp với nội dung (hoặc không do đơn vị này cấp).")
        return TAMPERED
    code = services.normalize_code(str(document.get("id", "")).rsplit("/", 1)[-1])
    engine = make_engine(settings)
    try:
        with Session(engine) as db:
            certificate = db.exec(select(Certificate).where(Certificate.code == code)).scalars().first() \
                if code else None
    except Exception:  # noqa: BLE001 - no database here: the signature alone decides
        certificate = None
    finally:
        engine.dispose()
    name = document.get("credentialSubject", {}).get("name", "")
    if certificate is not None and certificate.revoked_at is not None:
        typer.echo(f"ĐÃ THU HỒI ngày {certificate.revoked_at:%d/%m/%Y} (theo dữ liệu của hệ thống này): "
                   f"{certificate.revoked_reason}")
        return REVOKED
    note = "" if certificate is not None else " (chưa có trong dữ liệu của hệ thống này để xem thu hồi)"
    typer.echo(f"HỢP LỆ: chứng nhận của {name}, chữ ký đúng{note}.")
    return VALID
