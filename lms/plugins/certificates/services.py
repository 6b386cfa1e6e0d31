"""Issuing certificates once, their unguessable codes, verification, revocation and reissue."""

import functools
import secrets
import unicodedata

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from lms.context import Context
from lms.core import services as core
from lms.core.models import Place, User
from lms.db import utcnow
from lms.errors import NotFound, ServiceError
from lms.events import record
from lms.plugins.certificates.credential import IssuerKey, build_credential, sign_credential
from lms.plugins.certificates.events import CertificateIssued
from lms.plugins.certificates.models import Certificate, CertificateAudit
from lms.plugins.courses import services as courses
from lms.ratelimit import hit
from lms.settings import Settings
from lms.text import fold

# No 0/O, 1/I/L: a code read aloud or copied from paper cannot be mistyped into another.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 20  # 20 × log2(31) ≈ 99 random bits
PREFIX = "HVS"


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def display_code(code: str) -> str:
    return "-".join([PREFIX] + [code[i:i + 4] for i in range(0, len(code), 4)])


def normalize_code(typed: str) -> str | None:
    """The stored form of a typed code, whatever its case, dashes or spaces; None if it cannot be one."""
    value = unicodedata.normalize("NFKC", typed or "").upper()
    value = "".join(ch for ch in value if ch.isalnum())
    if value.startswith(PREFIX) and len(value) == CODE_LENGTH + len(PREFIX):
        value = value[len(PREFIX):]
    if len(value) != CODE_LENGTH or any(ch not in ALPHABET for ch in value):
        return None
    return value


def issuer_key(settings: Settings) -> IssuerKey:
    """The installation's signing key (lms.keys: settings, the database or instance/)."""
    return _issuer_key(settings.signing_key)


@functools.lru_cache(maxsize=4)
def _issuer_key(pem: str) -> IssuerKey:
    if not pem:
        raise RuntimeError("the signing key is resolved by lms.keys.installation_keys() at start-up")
    return IssuerKey.from_pem(pem)


def verify_url(settings: Settings, code: str) -> str:
    return f"{settings.base_url.rstrip('/')}/c/{display_code(code)}"


def issuer_name(commune_name: str, settings: Settings) -> str:
    return f"Ủy ban nhân dân {commune_name}" if commune_name else settings.site_name


def valid_certificate(db: Session, *, user_id: int, course_id: int) -> Certificate | None:
    return db.exec(select(Certificate).where(
        Certificate.user_id == user_id, Certificate.course_id == course_id,
        Certificate.revoked_at.is_(None))).scalars().first()


def issue(db: Session, *, settings: Settings, user_id: int, course_id: int,
          actor_id: int | None = None) -> Certificate:
    """The learner's valid certificate for the course, issued now if there is none.

    Runs in the caller's transaction. Idempotent under retries and concurrent calls: a
    partial unique index allows one valid certificate per learner and course, and the loser
    of a race reads the winner's. Only a new certificate records `certificates.issued`."""
    existing = valid_certificate(db, user_id=user_id, course_id=course_id)
    if existing is not None:
        return existing
    user = db.get(User, user_id)
    course = courses.course_by_id(db, course_id)
    if user is None or course is None:
        raise NotFound("unknown", "Không tìm thấy người học hoặc khóa học.")
    commune = db.get(Place, user.commune_id) if user.commune_id else None
    province = db.get(Place, commune.parent_id) if commune and commune.parent_id else None
    code = new_code()
    now = utcnow().replace(microsecond=0)
    base = settings.base_url.rstrip("/")
    commune_name = commune.name if commune else ""
    unsigned = build_credential(
        base_url=base, code=display_code(code), issuer_name=issuer_name(commune_name, settings),
        learner_name=user.full_name, course_title=course.title,
        course_url=f"{base}/courses/{course.slug}", course_summary=course.summary, issued_at=now)
    credential = sign_credential(unsigned, key=issuer_key(settings),
                                 verification_method=f"{base}/issuer#key-1", created=now)
    certificate = Certificate(
        code=code, user_id=user.id, course_id=course.id, learner_name=user.full_name,
        course_slug=course.slug, course_title=course.title,
        commune_id=commune.id if commune else None, commune_name=commune_name,
        province_name=province.name if province else "", issued_at=now, credential=credential)
    try:
        with db.begin_nested():
            db.add(certificate)
            db.flush()
            db.add(CertificateAudit(certificate_id=certificate.id, action="issued", actor_id=actor_id))
    except IntegrityError:
        winner = valid_certificate(db, user_id=user_id, course_id=course_id)
        if winner is None:
            raise
        return winner
    record(db, CertificateIssued(certificate_id=certificate.id, user_id=user.id, course_id=course.id))
    return certificate


def find(db: Session, typed_code: str) -> Certificate | None:
    code = normalize_code(typed_code)
    if code is None:
        return None
    return db.exec(select(Certificate).where(Certificate.code == code)).scalars().first()


def of_learner(db: Session, *, user_id: int) -> list[Certificate]:
    return list(db.exec(select(Certificate).where(Certificate.user_id == user_id)
                        .order_by(Certificate.issued_at.desc())).scalars().all())


def _checked_reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if not reason:
        raise ServiceError("reason_required", "Vui lòng ghi lý do thu hồi.")
    if len(reason) > 500:
        raise ServiceError("reason_too_long", "Lý do tối đa 500 ký tự.")
    return reason


def _revoke(db: Session, *, certificate: Certificate, actor: User, reason: str) -> Certificate:
    changed = db.execute(update(Certificate).where(
        Certificate.id == certificate.id, Certificate.revoked_at.is_(None)).values(
        revoked_at=utcnow(), revoked_reason=reason))
    if not changed.rowcount:
        raise ServiceError("already_revoked", "Chứng nhận này đã bị thu hồi trước đó.")
    db.add(CertificateAudit(certificate_id=certificate.id, action="revoked", actor_id=actor.id,
                            reason=reason))
    db.refresh(certificate)
    return certificate


def _in_scope(db: Session, *, certificate_id: int, actor: User) -> Certificate:
    certificate = db.get(Certificate, certificate_id)
    if certificate is None or (actor.role != "admin" and certificate.commune_id != actor.commune_id):
        raise NotFound()
    return certificate


def revoke(ctx: Context, *, certificate_id: int, actor: User, reason: str) -> Certificate:
    """Revoke with a reason (kept, and shown on the public page); staff only in their commune."""
    reason = _checked_reason(reason)
    with ctx.transaction() as db:
        certificate = _in_scope(db, certificate_id=certificate_id, actor=actor)
        return _revoke(db, certificate=certificate, actor=actor, reason=reason)


def reissue(ctx: Context, *, certificate_id: int, actor: User, full_name: str) -> Certificate:
    """After a name correction, as one unit of work: the learner is renamed, the old
    certificate revoked and a new one issued with the corrected name."""
    with ctx.transaction() as db:
        certificate = _in_scope(db, certificate_id=certificate_id, actor=actor)
        learner = db.get(User, certificate.user_id)
        if learner is None:
            raise NotFound("unknown", "Không tìm thấy người học.")
        core.rename_user(db, user=learner, full_name=full_name)
        if certificate.revoked_at is None:
            _revoke(db, certificate=certificate, actor=actor,
                    reason=f"Cấp lại sau khi sửa họ tên thành “{learner.full_name}”.")
        # The rename and the revocation must reach the database before the new one is signed.
        db.flush()
        fresh = issue(db, settings=ctx.settings, user_id=learner.id, course_id=certificate.course_id,
                      actor_id=actor.id)
        if certificate.replaced_by_id != fresh.id:  # a double submission adds nothing
            certificate.replaced_by_id = fresh.id
            db.add(certificate)
            db.add(CertificateAudit(certificate_id=fresh.id, action="reissued", actor_id=actor.id,
                                    reason=f"Thay cho {display_code(certificate.code)}"))
        return fresh


def count_verification(ctx: Context, key: str) -> bool:
    """Count one public verification for this client; False when it is over the limit."""
    with ctx.transaction() as db:
        return hit(db, key=key, limit=ctx.settings.verify_rate_limit)


def audit_of(db: Session, certificate_id: int) -> list[tuple[CertificateAudit, str]]:
    rows = db.exec(select(CertificateAudit, User.full_name)
                   .join(User, User.id == CertificateAudit.actor_id, isouter=True)
                   .where(CertificateAudit.certificate_id == certificate_id)
                   .order_by(CertificateAudit.at)).all()
    return [(audit, name or "Hệ thống") for audit, name in rows]


def for_commune(db: Session, *, commune_id: int | None, query: str = "",
                limit: int = 100) -> list[Certificate]:
    """Newest first; `query` is a code (any typing) or part of a name, diacritics optional."""
    statement = select(Certificate).order_by(Certificate.issued_at.desc())
    if commune_id is not None:
        statement = statement.where(Certificate.commune_id == commune_id)
    query = query.strip()[:100]
    code = normalize_code(query) if query else None
    if code:
        statement = statement.where(Certificate.code == code)
    rows = list(db.exec(statement.limit(5000 if query else limit)).scalars().all())
    if query and not code:
        # Matched here: SQLite cannot fold Vietnamese letters.
        wanted = fold(query)
        rows = [c for c in rows if wanted in fold(c.learner_name)]
    return rows[:limit]


def valid_counts(db: Session, *, user_ids: list[int]) -> dict[int, int]:
    """Valid (not revoked) certificates per learner."""
    from sqlalchemy import func

    return dict(db.exec(select(Certificate.user_id, func.count()).where(
        Certificate.user_id.in_(user_ids), Certificate.revoked_at.is_(None)).group_by(
        Certificate.user_id)).all())
