"""The installation's keys: the secret key (CSRF, throttling) and the Ed25519 signing key.

Every host of an installation must use the same keys, or forms posted to one host fail on
another and credentials are signed with a key the other hosts do not publish. So:
- a key set in settings (LMS_SECRET_KEY, LMS_SIGNING_KEY) is used as it is; with several
  hosts its fingerprint is kept in the database and a host whose key differs refuses to start;
- otherwise, with several hosts (PostgreSQL, or LMS_MULTI_HOST=true), the key is kept in the
  database, created once by the first host; a key file left in instance/ is taken over once,
  and refused if it differs from the installation's;
- otherwise (one host, SQLite) it is generated once into instance/."""

import hashlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import inspect, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from lms.core.models import SharedKey
from lms.db import insert_ignore, writer
from lms.settings import Settings

SECRET_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
SIGNING_FILE = "issuer_ed25519.pem"
FINGERPRINT = "sha256:"


class StartupRefused(RuntimeError):
    """The installation cannot start safely as configured; the message says what to do."""


def new_secret() -> str:
    return secrets.token_urlsafe(48)


def new_signing_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption(),
    ).decode("ascii")


def installation_keys(settings: Settings, engine: Engine) -> Settings:
    """A copy of the settings with both keys filled in, from wherever this installation keeps them."""
    secret = _key(settings, engine, name="secret_key", setting="LMS_SECRET_KEY", file=SECRET_FILE,
                  given=settings.secret_key, generate=new_secret)
    signing = _key(settings, engine, name="signing_key", setting="LMS_SIGNING_KEY", file=SIGNING_FILE,
                   given=settings.signing_key, generate=new_signing_key)
    return settings.model_copy(update={"secret_key": secret, "signing_key": signing})


def _fingerprint(value: str) -> str:
    return FINGERPRINT + hashlib.sha256(value.strip().encode()).hexdigest()


def _key(settings: Settings, engine: Engine, *, name: str, setting: str, file: str, given: str,
         generate: Callable[[], str]) -> str:
    if not settings.is_multi_host:
        return given or _instance_file(settings.instance_dir / file, generate)
    if not inspect(engine).has_table(SharedKey.__tablename__):
        raise StartupRefused("Cơ sở dữ liệu chưa được cập nhật: hãy chạy `lms migrate` trước khi chạy máy chủ.")
    local = settings.instance_dir / file
    if given:
        stored = _shared(engine, name, _fingerprint(given))
        if stored != _fingerprint(given):
            raise StartupRefused(
                f"{setting} của máy này khác với khóa mà các máy khác của hệ thống đang dùng. "
                f"Mọi máy phải đặt cùng một {setting} (hoặc bỏ trống ở mọi máy để dùng khóa trong cơ sở dữ liệu).")
        return given
    offered = local.read_text(encoding="ascii").strip() if local.exists() else None
    stored = _shared(engine, name, offered or generate())
    if stored.startswith(FINGERPRINT):
        raise StartupRefused(
            f"Các máy khác của hệ thống đặt khóa bằng {setting}; hãy đặt cùng giá trị đó cho máy này.")
    if offered is not None and offered != stored:
        raise StartupRefused(
            f"Tệp {local} của máy này khác với khóa chung của hệ thống (trong cơ sở dữ liệu). "
            f"Hãy xóa tệp này (sau khi sao lưu) để dùng khóa chung, hoặc đặt {setting} giống nhau ở mọi máy.")
    return stored


def _shared(engine: Engine, name: str, candidate: str) -> str:
    """The stored value under `name`; `candidate` is stored first if there is none (first host wins)."""
    with Session(writer(engine)) as db, db.begin():
        insert_ignore(db, SharedKey, {"name": name, "value": candidate}, ["name"])
        return db.exec(select(SharedKey.value).where(SharedKey.name == name)).scalar_one()


def _instance_file(path: Path, generate: Callable[[], str]) -> str:
    """The key in `path`, generated once; two workers starting at once agree on one key."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        # Created with mode 600 from the start: the key is never readable by others.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(generate())
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(tmp, path)  # fails if the name exists, unlike rename: the first one wins
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text(encoding="ascii").strip()
