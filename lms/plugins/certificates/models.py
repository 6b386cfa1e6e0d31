"""Certificates, as issued, and their audit trail."""

from datetime import datetime

from sqlalchemy import JSON, Column, Index, text
from sqlmodel import Field, SQLModel

from lms.db import utcnow


class Certificate(SQLModel, table=True):
    __tablename__ = "certificates_certificate"
    __table_args__ = (
        # One valid certificate per learner and course, whatever retries and races do.
        Index("uq_certificates_valid", "user_id", "course_id", unique=True,
              sqlite_where=text("revoked_at IS NULL"), postgresql_where=text("revoked_at IS NULL")),
        Index("uq_certificates_status_index", "status_index", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    # 20 characters of the reading alphabet, without dashes (shown grouped: HVS-XXXX-…).
    code: str = Field(max_length=20, unique=True)
    user_id: int = Field(foreign_key="core_user.id", index=True)
    course_id: int = Field(foreign_key="courses_course.id", index=True)
    # Copied at issue time: a certificate says what was true when it was issued.
    learner_name: str = Field(max_length=100)
    course_slug: str = Field(max_length=80)
    course_title: str = Field(max_length=200)
    commune_id: int | None = Field(default=None, foreign_key="core_place.id", index=True)
    commune_name: str = Field(max_length=120)
    province_name: str = Field(default="", max_length=120)
    issued_at: datetime = Field(default_factory=utcnow, index=True)
    revoked_at: datetime | None = Field(default=None, index=True)  # counted live by the statistics
    revoked_reason: str | None = Field(default=None, max_length=500)
    replaced_by_id: int | None = Field(default=None, foreign_key="certificates_certificate.id")
    # The signed Open Badges credential, kept as issued so its signature never changes (one
    # issued before 0014 is signed once more, with a status entry, when first published).
    credential: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # The certificate's bit in its issuer's Bitstring Status List: drawn at random, unique in the
    # installation (so in every list); NULL only for a credential from before 0014 not yet re-signed.
    status_index: int | None = Field(default=None)


class CertificateAudit(SQLModel, table=True):
    """Who did what to a certificate, and when."""

    __tablename__ = "certificates_audit"

    id: int | None = Field(default=None, primary_key=True)
    certificate_id: int = Field(foreign_key="certificates_certificate.id", index=True)
    action: str = Field(max_length=16)  # issued | revoked | reissued
    actor_id: int | None = Field(default=None, foreign_key="core_user.id")
    reason: str = Field(default="", max_length=500)
    at: datetime = Field(default_factory=utcnow)
