"""Typed settings, read from environment variables prefixed LMS_."""

from pathlib import Path
from typing import Annotated, Literal

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
        description="Signs CSRF tokens and keys throttling; when empty it is kept in the database "
                    "(several hosts) or generated once into instance/secret_key.",
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
    login_max_failures_per_client: int = Field(
        default=20, description="Failed log-ins from one client address (any phone) before waiting.")
    argon2_time_cost: int = Field(default=3, description="argon2 rounds; raise to strengthen.")
    argon2_memory_cost: int = Field(default=65536, description="argon2 memory in KiB.")
    site_name: str = Field(default="Bình dân học vụ số", description="Name in the page header.")
    widget_frame_ancestors: str = Field(
        default="*", pattern=r"^(\*|'none'|https?://[^\s;,']+( https?://[^\s;,']+)*)$",
        description="Sites allowed to show the /widget pages in a frame (CSP frame-ancestors): * for any, "
                    "or the commune portals' origins separated by spaces.")
    certificate_signer_title: str = Field(
        default="TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH",
        description="Signer's title printed on certificates; \\n separates lines.",
    )
    certificate_signer_name: str = Field(default="", description="Signer's name on certificates.")
    import_retention_days: int = Field(
        default=7, ge=0, description="Days an uploaded list of residents that was never confirmed is kept.")
    registration_retention_days: int = Field(
        default=365, ge=1, description="Days after an event ends before its registrations lose names and phones.")
    verify_rate_limit: int = Field(
        default=30, description="Certificate verification requests per client per minute."
    )
    signing_key: str = Field(
        default="",
        description="Ed25519 private key (PEM) the installation signs credentials with; when empty it "
                    "is kept in the database (several hosts) or generated once into instance/.",
    )
    multi_host: bool | None = Field(
        default=None,
        description="Several hosts share this installation: keys come from settings or the database, "
                    "never from instance/. By default on with PostgreSQL.",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated addresses or networks (CIDR) of reverse proxies whose "
                    "X-Forwarded-For / Forwarded headers are believed; empty: trust nobody.",
    )
    worker_threads: int = Field(
        default=16, ge=1, le=200,
        description="Threads per worker running request handlers; the database pool is sized to it.",
    )
    database_lock_timeout_seconds: float = Field(
        default=10, gt=0,
        description="How long a write waits for another's lock before the page says the site is busy.",
    )
    database_prepared_statements: bool = Field(
        default=True, description="Server-side prepared statements (PostgreSQL); turn off behind "
                                  "PgBouncer in transaction mode.",
    )
    media_dir: str = Field(
        default="", description="Folder shared by all hosts (an NFS or object-store mount) that keeps "
                                "uploaded media; empty: they are kept in the database.")
    speech_voice: Literal["vi", "vi-vn-x-central", "vi-vn-x-south"] = Field(
        default="vi", description="espeak-ng voice of the machine-read lessons and bulletins: Northern (vi), "
                                  "Central (vi-vn-x-central) or Southern (vi-vn-x-south).")
    hoi_dap_semantic: bool = Field(
        default=False, description="Rank the Q&A assistant's answers with the semantic model as well as "
                                   "BM25 (needs the `semantic` extra; 43 MB more per worker, measured).")
    media_max_upload_bytes: int = Field(
        default=10_000_000, ge=1, description="Largest media file accepted for upload, before re-encoding.")
    outbox_interval_seconds: float = Field(
        default=30, ge=0,
        description="How often each worker delivers domain events still pending; 0: only at start.",
    )
    # Recovering a forgotten password by a code sent by SMS (lms.core.recovery, plugin sms).
    sms_gateway: str = Field(
        default="", description="Gateway that sends codes: \"http\", \"dev\", \"none\" or a plugin's; empty: "
                                "\"http\" when LMS_SMS_HTTP_URL is set, else \"dev\" if installed.")
    sms_http_url: str = Field(default="", description="Provider's URL; {phone}, {phone84}, {text} are filled in.")
    sms_http_method: str = Field(default="POST", description="HTTP method of the provider's API.")
    sms_http_auth_header: str = Field(
        default="", description="One header line sent with each request, e.g. \"Authorization: Bearer …\".")
    sms_http_body: str = Field(
        default='{"phone": "{phone}", "text": "{text}"}',
        description="Request body; {phone}, {phone84}, {text} are escaped for the content type.")
    sms_http_content_type: str = Field(default="application/json", description="Content-Type of the body.")
    sms_http_timeout_seconds: float = Field(default=10, gt=0, le=60, description="Wait for the provider.")
    sms_http_success_text: str = Field(
        default="", description="If set, a 2xx answer must also contain this text to count as sent.")
    sms_recovery_text: str = Field(
        default="Mã đặt lại mật khẩu {site}: {code}. Mã hết hạn sau 5 phút. Không đưa mã này cho ai.",
        description="The message with the code ({code}, {site}); a provider's registered template.")
    recovery_codes_per_phone: int = Field(default=3, ge=1, description="Codes per phone number per window.")
    recovery_requests_per_client: int = Field(
        default=10, ge=1, description="Code requests from one client address per window (any phone).")
    recovery_tries_per_client: int = Field(
        default=20, ge=1, description="Codes typed from one client address per window (any phone).")
    recovery_window_minutes: int = Field(default=15, ge=1, description="Window for the recovery limits.")
    # /metrics for Prometheus (lms.metrics): off while neither is set.
    metrics_token: str = Field(
        default="", description="Bearer token a scraper sends to read /metrics (Authorization: Bearer …).")
    metrics_allow: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated addresses or networks (CIDR) that may read /metrics; with a token "
                    "as well, both are required.")

    @field_validator("plugins_disable", "trusted_proxies", "metrics_allow", mode="before")
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
    def is_multi_host(self) -> bool:
        return self.multi_host if self.multi_host is not None else not self.is_sqlite

    @property
    def is_https(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.is_https

    def ensure_instance(self) -> None:
        self.instance_dir.mkdir(parents=True, exist_ok=True)

    def resolved_secret_key(self) -> str:
        """The secret key; lms.keys.installation_keys() fills it in when it is not set."""
        if not self.secret_key:
            raise RuntimeError("the secret key is resolved by lms.keys.installation_keys() at start-up")
        return self.secret_key
