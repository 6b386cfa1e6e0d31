"""Typed settings, read from environment variables prefixed LMS_."""

import os
import secrets
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting of an installation. Documented in README.md."""

    model_config = SettingsConfigDict(env_prefix="LMS_", extra="ignore")

    instance_dir: Path = Field(
        default=Path("instance"),
        description="Folder for the SQLite file, the generated secret key and keys.",
    )
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL; empty means an SQLite file instance/hocvuso.db.",
    )
    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Public address, used in QR codes and links printed on paper.",
    )
    secret_key: str = Field(
        default="",
        description="Signs CSRF tokens; generated once into instance/secret_key when empty.",
    )
    cookie_secure: bool | None = Field(
        default=None, description="Secure flag on cookies; by default on when base_url is https."
    )
    session_days: int = Field(default=30, description="How long a log-in lasts.")
    plugins_disable: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated plugin names not to load."
    )
    max_body_bytes: int = Field(
        default=2_000_000, description="Largest request body accepted (uploads included)."
    )
    login_max_failures: int = Field(default=5, description="Failed log-ins before waiting.")
    login_window_minutes: int = Field(default=15, description="Window for counting failures.")
    argon2_time_cost: int = Field(default=3, description="argon2 rounds; raise to strengthen.")
    argon2_memory_cost: int = Field(default=65536, description="argon2 memory in KiB.")
    site_name: str = Field(default="Bình dân học vụ số", description="Name in the page header.")
    certificate_signer_title: str = Field(
        default="TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH",
        description="Signer's title printed on certificates; \\n separates lines.",
    )
    certificate_signer_name: str = Field(default="", description="Signer's name on certificates.")
    verify_rate_limit: int = Field(
        default=30, description="Certificate verification requests per client per minute."
    )

    @field_validator("plugins_disable", mode="before")
    @classmethod
    def _split_names(cls, value: object) -> object:
        if isinstance(value, str):
            return [name.strip() for name in value.split(",") if name.strip()]
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.instance_dir / 'hocvuso.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.base_url.startswith("https://")

    def ensure_instance(self) -> None:
        self.instance_dir.mkdir(parents=True, exist_ok=True)

    def resolved_secret_key(self) -> str:
        """The configured key, or one generated once and kept under instance/."""
        if self.secret_key:
            return self.secret_key
        self.ensure_instance()
        path = self.instance_dir / "secret_key"
        if not path.exists():
            # Written aside then linked into place, so two workers starting at
            # once agree on one key and never read a half-written file.
            tmp = path.with_name(f".secret_key.{secrets.token_hex(8)}")
            tmp.write_text(secrets.token_urlsafe(48), encoding="ascii")
            tmp.chmod(0o600)
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        return path.read_text(encoding="ascii").strip()
