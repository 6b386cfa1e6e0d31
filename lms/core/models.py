"""Core tables: places, users, sessions, consents, log-in failures, set-up tokens, outbox, shared keys."""

from datetime import datetime

from sqlalchemy import JSON, Column, Index, Text, event
from sqlmodel import Field, SQLModel

from lms.db import utcnow
from lms.media import MediaFile  # noqa: F401 - core_media is defined with its store, collected here
from lms.text import fold
from lms.versions import ContentVersion, track  # noqa: F401 - core_content_version is collected here


class Place(SQLModel, table=True):
    """An administrative unit: province/city → commune/ward → village (thôn, tổ dân phố)."""

    __tablename__ = "core_place"
    # Official units are found by their code when renamed; villages have none (not in the list).
    __table_args__ = (Index("ix_core_place_kind_code", "kind", "code", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16, index=True)  # province | commune | village
    name: str = Field(max_length=120)
    code: str | None = Field(default=None, max_length=16)
    parent_id: int | None = Field(default=None, foreign_key="core_place.id", index=True)
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)


# Village pickers are kept in memory until a place changes.
track(Place, "places")


class User(SQLModel, table=True):
    __tablename__ = "core_user"

    id: int | None = Field(default=None, primary_key=True)
    full_name: str = Field(max_length=100)
    # Lowercase without diacritics, kept in step with full_name: search by "lan"
    # finds "Lân", and SQLite's lower() does not know Vietnamese letters.
    name_folded: str = Field(default="", max_length=100)
    # Canonical 10-digit form (0xxxxxxxxx); empty for residents without a phone.
    phone: str | None = Field(default=None, max_length=10, unique=True)
    password_hash: str | None = Field(default=None, max_length=255)
    role: str = Field(default="learner", max_length=16, index=True)
    audience: str | None = Field(default=None, max_length=16, index=True)
    village_id: int | None = Field(default=None, foreign_key="core_place.id", index=True)
    # The commune a user belongs to (learners) or administers (staff, team members).
    commune_id: int | None = Field(default=None, foreign_key="core_place.id", index=True)
    birth_year: int | None = Field(default=None)
    active: bool = Field(default=True)
    # Today's new learners are counted live from it (the statistics of days not summed yet).
    created_at: datetime = Field(default_factory=utcnow, index=True)
    password_changed_at: datetime | None = Field(default=None)
    # Set when staff merged this account into another of the same person: it keeps its id
    # (old links and records still point somewhere) but is inactive and counted nowhere.
    merged_into_id: int | None = Field(default=None, foreign_key="core_user.id", index=True)


class UserSession(SQLModel, table=True):
    """A log-in. The cookie holds the token; the table keeps only its digest."""

    __tablename__ = "core_session"

    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="core_user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)


class Consent(SQLModel, table=True):
    """Who agreed to which version of a consent text, when, and how."""

    __tablename__ = "core_consent"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="core_user.id", index=True)
    purpose: str = Field(max_length=40)
    text_version: str = Field(max_length=40)
    method: str = Field(max_length=16)  # self | helper
    helper_id: int | None = Field(default=None, foreign_key="core_user.id")
    given_at: datetime = Field(default_factory=utcnow)
    # A ledger: a refusal or a withdrawal is a row too; the latest row per purpose decides.
    granted: bool = Field(default=True)


class LoginFailure(SQLModel, table=True):
    """A failed log-in, kept in the database so throttling holds across workers."""

    __tablename__ = "core_login_failure"

    id: int | None = Field(default=None, primary_key=True)
    # HMAC of the phone number: throttling needs no readable phone numbers.
    phone_digest: str = Field(max_length=64, index=True)
    failed_at: datetime = Field(default_factory=utcnow, index=True)


class SetupToken(SQLModel, table=True):
    """A one-time link for creating the first administrator."""

    __tablename__ = "core_setup_token"

    digest: str = Field(primary_key=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


@event.listens_for(User, "before_insert")
@event.listens_for(User, "before_update")
def _fold_name(_mapper, _connection, user: User) -> None:  # type: ignore[no-untyped-def]
    user.name_folded = fold(user.full_name)


class RateBucket(SQLModel, table=True):
    """Hits per client key per time window, in the database so limits hold across workers."""

    __tablename__ = "core_rate_bucket"

    key: str = Field(primary_key=True, max_length=64)
    window_start: datetime = Field(primary_key=True, index=True)
    hits: int = Field(default=0)


class OutboxEvent(SQLModel, table=True):
    """A domain event, written in the transaction that raised it and delivered after commit."""

    __tablename__ = "core_outbox"
    __table_args__ = (Index("ix_core_outbox_pending", "delivered_at", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, index=True)
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow)
    # While a worker delivers it: another worker leaves it alone until then.
    claimed_until: datetime | None = Field(default=None)
    delivered_at: datetime | None = Field(default=None)
    # Plugins whose handler has run: a retry runs only the ones that failed.
    handled: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Which handler failed and the exception's type; never its message (it may quote a person).
    last_error: str | None = Field(default=None, max_length=200)


class SharedKey(SQLModel, table=True):
    """A key every host of an installation must share, created once by whichever host is first."""

    __tablename__ = "core_shared_key"

    name: str = Field(primary_key=True, max_length=60)
    value: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class InstallationSetting(SQLModel, table=True):
    """A setting the administrator chose in the browser (first-run guide), over the default.

    A setting given in the environment (LMS_…) wins over the row and is shown as fixed."""

    __tablename__ = "core_installation_setting"

    name: str = Field(primary_key=True, max_length=60)
    value: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by_id: int | None = Field(default=None, foreign_key="core_user.id")


# Every worker and host reads the settings again after one changed.
track(InstallationSetting, "installation_settings")


class PasswordLink(SQLModel, table=True):
    """A one-time link to set a password: claiming an account, a reset, an invitation.

    Only the token's digest is kept; the row is also the record of who issued it for whom."""

    __tablename__ = "core_password_link"

    id: int | None = Field(default=None, primary_key=True)
    digest: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="core_user.id", index=True)
    purpose: str = Field(max_length=16)  # claim | reset | invite
    created_by_id: int | None = Field(default=None, foreign_key="core_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = Field(default=None)
    # A newer link for the same person, or a staff action, ends an unused one.
    revoked_at: datetime | None = Field(default=None)


class RecoveryCode(SQLModel, table=True):
    """The live code sent by SMS to recover a password: one per phone number (a new one replaces it).

    Keyed by an HMAC of the phone, never the phone itself. A number without an account gets a
    row too (user_id empty, a digest nobody can match), so typing codes for it answers exactly
    as for a real account: tries left, then dead."""

    __tablename__ = "core_recovery_code"

    id: int | None = Field(default=None, primary_key=True)
    phone_digest: str = Field(max_length=64, unique=True)
    user_id: int | None = Field(default=None, foreign_key="core_user.id", index=True)
    code_digest: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    tries_left: int = Field(default=5)


class AccountMerge(SQLModel, table=True):
    """The record of a merge: who merged which account into which, when, and what moved."""

    __tablename__ = "core_account_merge"

    id: int | None = Field(default=None, primary_key=True)
    kept_id: int = Field(foreign_key="core_user.id", index=True)
    merged_id: int = Field(foreign_key="core_user.id", index=True)
    merged_by_id: int = Field(foreign_key="core_user.id")
    merged_at: datetime = Field(default_factory=utcnow)
    # [{"label": …, "count": …}] as the plugins reported it: no personal data.
    moved: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class DataRequest(SQLModel, table=True):
    """A person's request about their data (erase, restrict, object), with the clocks the law
    sets: acknowledged within 2 working days, carried out within 15 days (20 with a processor),
    extended once by up to 15 days."""

    __tablename__ = "core_data_request"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="core_user.id", index=True)
    commune_id: int | None = Field(default=None, foreign_key="core_place.id", index=True)
    kind: str = Field(default="erase", max_length=16)
    # For "object": the consent purpose the person objects to.
    purpose: str | None = Field(default=None, max_length=40)
    processor: bool = Field(default=False)
    extended_days: int | None = Field(default=None)
    extension_reason: str | None = Field(default=None, max_length=300)
    extended_at: datetime | None = Field(default=None)
    extended_by_id: int | None = Field(default=None, foreign_key="core_user.id")
    # Who filed it: the person, or a team member or staff on their behalf.
    filed_by_id: int | None = Field(default=None, foreign_key="core_user.id")
    filed_at: datetime = Field(default_factory=utcnow, index=True)
    acknowledge_by: datetime
    complete_by: datetime
    acknowledged_at: datetime | None = Field(default=None)
    acknowledged_by_id: int | None = Field(default=None, foreign_key="core_user.id")
    completed_at: datetime | None = Field(default=None, index=True)
    completed_by_id: int | None = Field(default=None, foreign_key="core_user.id")
    # What erasure did, table by table (no personal data): the person's receipt.
    outcome: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
