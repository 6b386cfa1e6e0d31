"""Issuing certificates once, their unguessable codes, verification, revocation and reissue."""

import functools
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer
from sqlmodel import Session

from lms.context import Context
from lms.core import services as core
from lms.core.models import Place, User
from lms.db import utcnow
from lms.errors import NotFound, ServiceError
from lms.events import record
from lms.plugins.certificates.credential import (
    KEY_FRAGMENT,
    STATUS_LIST_SIZE,
    Competence,
    IssuerKey,
    build_credential,
    did_document,
    issuer_did,
    issuer_profile,
    sign_credential,
    status_entry,
    status_list_credential,
)
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


# --- Issuers: each commune's People's Committee, and the installation ------------------------

# The status list of an issuer that has revoked nothing yet says so from this moment on: a fixed
# date, so every host publishes the same bytes.
STATUS_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Issuer:
    """Who issues a certificate: the People's Committee of the learner's commune (as the paper
    says), or the installation for a learner without one. One key signs for all of them."""

    commune_id: int | None
    did: str
    name: str
    profile_url: str
    status_list_url: str

    @property
    def verification_method(self) -> str:
        return f"{self.did}#{KEY_FRAGMENT}"


def issuer_of(settings: Settings, *, commune_id: int | None, commune_name: str) -> Issuer:
    base = settings.base_url.rstrip("/")
    path = f"{base}/issuer/{commune_id}" if commune_id else f"{base}/issuer"
    return Issuer(commune_id=commune_id or None, did=issuer_did(base, commune_id),
                  name=issuer_name(commune_name if commune_id else "", settings),
                  profile_url=path, status_list_url=f"{path}/status-list")


def find_issuer(db: Session, settings: Settings, commune_id: int | None) -> Issuer | None:
    """The issuer at /issuer (None) or /issuer/<commune>; None when there is no such commune."""
    if commune_id is None:
        return issuer_of(settings, commune_id=None, commune_name="")
    place = db.get(Place, commune_id)
    if place is None or place.kind != "commune":
        return None
    return issuer_of(settings, commune_id=place.id, commune_name=place.name)


def issuer_documents(settings: Settings, issuer: Issuer) -> tuple[dict, dict]:
    """(DID document, Open Badges profile) of an issuer."""
    key = issuer_key(settings)
    # Before 0013 every credential named <base>/issuer as issuer and <base>/issuer#key-1 as key.
    legacy = None if issuer.commune_id else f"{issuer.profile_url}#{KEY_FRAGMENT}"
    return (did_document(issuer.did, key),
            issuer_profile(did=issuer.did, name=issuer.name, url=issuer.profile_url, key=key, legacy_method=legacy))


def status_list(db: Session, settings: Settings, issuer: Issuer) -> dict:
    """The issuer's signed revocation list, as the database says now (no state kept per host)."""
    condition = (Certificate.commune_id == issuer.commune_id if issuer.commune_id
                 else Certificate.commune_id.is_(None))
    rows = db.exec(select(Certificate.status_index, Certificate.revoked_at).where(
        condition, Certificate.revoked_at.is_not(None), Certificate.status_index.is_not(None))).all()
    revoked = tuple(sorted(index for index, _ in rows))
    moment = max((_aware(at) for _, at in rows), default=STATUS_EPOCH).replace(microsecond=0)
    return _signed_status_list(settings.signing_key, issuer, revoked, moment)


@functools.lru_cache(maxsize=64)
def _signed_status_list(pem: str, issuer: Issuer, revoked: tuple[int, ...], moment: datetime) -> dict:
    # Signing (RDF canonicalisation above all) costs tens of milliseconds; the list only changes
    # with a revocation, so the same inputs give the same document from the cache.
    unsigned = status_list_credential(list_url=issuer.status_list_url, issuer_id=issuer.did,
                                      revoked=revoked, valid_from=moment)
    return sign_credential(unsigned, key=_issuer_key(pem), verification_method=issuer.verification_method,
                           created=moment)


# --- The credential ------------------------------------------------------------------------


def _criteria(course: object | None) -> str:
    quiz = getattr(course, "quiz", None)
    if isinstance(quiz, dict) and quiz.get("questions"):
        mark = quiz.get("pass_mark", 80)
        return f"Hoàn thành tất cả bài học của khóa và đạt từ {mark}% số điểm trở lên ở bài kiểm tra cuối khóa."
    return "Hoàn thành tất cả bài học của khóa."


def _draw_status_index(db: Session) -> int:
    """A random free index; the unique index settles the rare race between two issuers."""
    for _ in range(50):
        index = secrets.randbelow(STATUS_LIST_SIZE)
        taken = db.exec(select(Certificate.id).where(Certificate.status_index == index)).first()
        if taken is None:
            return index
    raise ServiceError("status_list_full", "Danh sách trạng thái chứng nhận đã đầy, vui lòng báo quản trị viên.",
                       503)


def _signed_credential(db: Session, settings: Settings, *, code: str, learner_name: str, course_id: int,
                       course_slug: str, course_title: str, commune_id: int | None, commune_name: str,
                       issued_at: datetime, status_index: int, signed_at: datetime) -> dict:
    base = settings.base_url.rstrip("/")
    course = courses.course_by_id(db, course_id)
    issuer = issuer_of(settings, commune_id=commune_id, commune_name=commune_name)
    competences = [Competence(code=d, name=courses.DOMAINS[d], url=f"{base}/courses?domain={d}")
                   for d in (getattr(course, "domains", None) or []) if d in courses.DOMAINS]
    unsigned = build_credential(
        credential_id=verify_url(settings, code), issuer_id=issuer.did, issuer_name=issuer.name,
        issuer_url=issuer.profile_url, learner_name=learner_name, course_title=course_title,
        course_url=f"{base}/courses/{course_slug}", course_summary=getattr(course, "summary", "") or "",
        criteria=_criteria(course), competences=competences, awarded_at=issued_at,
        status=status_entry(issuer.status_list_url, status_index))
    return sign_credential(unsigned, key=issuer_key(settings), verification_method=issuer.verification_method,
                           created=signed_at)


def published_credential(ctx: Context, certificate_id: int) -> dict:
    """The certificate's credential as /c/<code>.json publishes it.

    A credential issued before status lists (0014) lacks credentialStatus, and its proof the
    @context outside verifiers need: it is signed once more, with a status index, the first time
    it is asked for; from then on it never changes either."""
    with ctx.transaction() as db:
        certificate = db.get(Certificate, certificate_id)
        if certificate is None:
            raise NotFound()
        if certificate.status_index is not None:
            return certificate.credential
        for _ in range(3):
            index = _draw_status_index(db)
            credential = _signed_credential(
                db, ctx.settings, code=certificate.code, learner_name=certificate.learner_name,
                course_id=certificate.course_id, course_slug=certificate.course_slug,
                course_title=certificate.course_title, commune_id=certificate.commune_id,
                commune_name=certificate.commune_name, issued_at=_aware(certificate.issued_at),
                status_index=index, signed_at=utcnow().replace(microsecond=0))
            try:
                with db.begin_nested():
                    changed = db.execute(update(Certificate).where(
                        Certificate.id == certificate.id, Certificate.status_index.is_(None)).values(
                        status_index=index, credential=credential))
            except IntegrityError:
                continue  # another certificate took the index meanwhile
            if not changed.rowcount:  # another host re-signed it first
                db.refresh(certificate)
            return credential if changed.rowcount else certificate.credential
        raise ServiceError("busy", "Hệ thống đang bận, vui lòng thử lại.", 503)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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
    now = utcnow().replace(microsecond=0)
    commune_name = commune.name if commune else ""
    for attempt in range(3):
        code, index = new_code(), _draw_status_index(db)
        credential = _signed_credential(
            db, settings, code=code, learner_name=user.full_name, course_id=course.id,
            course_slug=course.slug, course_title=course.title, commune_id=commune.id if commune else None,
            commune_name=commune_name, issued_at=now, status_index=index, signed_at=now)
        certificate = Certificate(
            code=code, user_id=user.id, course_id=course.id, learner_name=user.full_name,
            course_slug=course.slug, course_title=course.title,
            commune_id=commune.id if commune else None, commune_name=commune_name,
            province_name=province.name if province else "", issued_at=now, credential=credential,
            status_index=index)
        try:
            with db.begin_nested():
                db.add(certificate)
                db.flush()
                db.add(CertificateAudit(certificate_id=certificate.id, action="issued", actor_id=actor_id))
        except IntegrityError:
            winner = valid_certificate(db, user_id=user_id, course_id=course_id)
            if winner is not None:
                return winner
            if attempt == 2:
                raise
            continue  # the status index was taken by a certificate issued meanwhile: draw again
        record(db, CertificateIssued(certificate_id=certificate.id, user_id=user.id, course_id=course.id))
        return certificate
    raise AssertionError("unreachable")


# Built once (every verification runs it). The signed credential (several KB of JSON) is read
# only where it is published.
_BY_CODE = select(Certificate).options(defer(Certificate.credential)).where(Certificate.code == bindparam("code"))


def find(db: Session, typed_code: str) -> Certificate | None:
    code = normalize_code(typed_code)
    if code is None:
        return None
    return db.exec(_BY_CODE, params={"code": code}).scalars().first()


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


def count_verification(ctx: Context, key: str, *, limit: int | None = None) -> bool:
    """Count one public verification for this client; False when it is over the limit
    (LMS_VERIFY_RATE_LIMIT a minute unless another is given)."""
    with ctx.transaction() as db:
        return hit(db, key=key, limit=ctx.settings.verify_rate_limit if limit is None else limit)


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
