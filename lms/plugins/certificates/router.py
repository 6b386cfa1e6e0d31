"""Certificate pages: public verification, print, PDF, signed credential, learner's list, staff."""

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlmodel import Session

from lms import security as access
from lms.context import context_of
from lms.core.models import User
from lms.db import get_session
from lms.errors import FormErrors, NotFound, ServiceError
from lms.forms import FormValues, ObjectId
from lms.plugins.certificates import services
from lms.plugins.certificates.models import Certificate
from lms.ratelimit import client_key, memory_window
from lms.templating import local, render

router = APIRouter()

# Browser-based verifiers fetch these from other origins; none of them depends on a cookie.
OPEN = {"Access-Control-Allow-Origin": "*"}
# Keys and names change rarely; a revocation must show at once.
PROFILE_CACHE = {**OPEN, "Cache-Control": "public, max-age=3600"}
STATUS_CACHE = {**OPEN, "Cache-Control": "public, max-age=60"}
# Lookups of certificates that exist are limited only against floods: an office checks a class
# of 40 (page, PDF, JSON) at once. Codes that do not exist are what guessing produces: those are
# limited to LMS_VERIFY_RATE_LIMIT a minute.
FOUND_LOOKUPS_PER_MISS = 10


def rate_limited(request: Request) -> None:
    """Verification is public; a per-client limit keeps the service from being flooded. Counted
    in this worker's memory: a view that finds its certificate writes nothing. Misses, which
    guessing produces, are counted in the database across workers (`_miss`)."""
    window = memory_window(request.app.state, "certificate_lookups")
    limit = request.app.state.settings.verify_rate_limit * FOUND_LOOKUPS_PER_MISS
    if not window.hit(client_key(request, "verify"), limit=limit):
        raise HTTPException(429, headers={"Retry-After": "60"})


def _miss(request: Request) -> None:
    """A code that matched nothing: counted against the tighter limit that stops guessing."""
    if not services.count_verification(context_of(request), client_key(request, "verify-miss")):
        raise HTTPException(429, headers={"Retry-After": "60"})


def _settings(request: Request) -> Any:
    return request.app.state.settings


def _lookup(request: Request, db: Session, code: str) -> Certificate | None:
    certificate = services.find(db, code)
    if certificate is None:
        _miss(request)
    return certificate


def _found(request: Request, db: Session, code: str) -> Certificate:
    certificate = _lookup(request, db, code)
    if certificate is None:
        raise HTTPException(404)
    return certificate


def _context(request: Request, certificate: Certificate, db: Session | None = None) -> dict[str, Any]:
    settings = _settings(request)
    context = {
        "certificate": certificate, "code": services.display_code(certificate.code),
        "verify_url": services.verify_url(settings, certificate.code),
        "issuer": services.issuer_name(certificate.commune_name, settings),
        "signer_lines": settings.certificate_signer_title.replace("\\n", "\n").split("\n"),
        "signer_name": settings.certificate_signer_name,
        # After a name correction the old code's page points to the certificate that replaced it.
        "replacement": None,
    }
    if db is not None and certificate.replaced_by_id:
        replacement = db.get(Certificate, certificate.replaced_by_id)
        context["replacement"] = services.display_code(replacement.code) if replacement else None
    return context


def _issuer(request: Request, db: Session, commune_id: int | None) -> services.Issuer:
    found = services.find_issuer(db, _settings(request), commune_id)
    if found is None:
        raise HTTPException(404)
    return found


def _did_document(request: Request, db: Session, commune_id: int | None) -> Any:
    document, _ = services.issuer_documents(_settings(request), _issuer(request, db, commune_id))
    return JSONResponse(document, media_type="application/did+ld+json", headers=PROFILE_CACHE)


def _profile(request: Request, db: Session, commune_id: int | None) -> Any:
    _, profile = services.issuer_documents(_settings(request), _issuer(request, db, commune_id))
    return JSONResponse(profile, media_type="application/ld+json", headers=PROFILE_CACHE)


def _status_list(request: Request, db: Session, commune_id: int | None) -> Any:
    document = services.status_list(db, _settings(request), _issuer(request, db, commune_id))
    return JSONResponse(document, media_type="application/vc+ld+json", headers=STATUS_CACHE)


# did:web:<host> resolves to /.well-known/did.json, or to /did.json when the site lives under a path.
@router.get("/.well-known/did.json", dependencies=[access.PUBLIC_ROUTE])
def installation_did(request: Request, db: Session = Depends(get_session)) -> Any:
    return _did_document(request, db, None)


@router.get("/did.json", dependencies=[access.PUBLIC_ROUTE], include_in_schema=False)
def installation_did_under_path(request: Request, db: Session = Depends(get_session)) -> Any:
    return _did_document(request, db, None)


@router.get("/issuer", dependencies=[access.PUBLIC_ROUTE])
def issuer(request: Request, db: Session = Depends(get_session)) -> Any:
    return _profile(request, db, None)


@router.get("/issuer/status-list", dependencies=[access.PUBLIC_ROUTE])
def installation_status_list(request: Request, db: Session = Depends(get_session)) -> Any:
    return _status_list(request, db, None)


@router.get("/issuer/{commune_id}", dependencies=[access.PUBLIC_ROUTE])
def commune_issuer(request: Request, commune_id: ObjectId, db: Session = Depends(get_session)) -> Any:
    return _profile(request, db, commune_id)


@router.get("/issuer/{commune_id}/did.json", dependencies=[access.PUBLIC_ROUTE])
def commune_did(request: Request, commune_id: ObjectId, db: Session = Depends(get_session)) -> Any:
    return _did_document(request, db, commune_id)


@router.get("/issuer/{commune_id}/status-list", dependencies=[access.PUBLIC_ROUTE])
def commune_status_list(request: Request, commune_id: ObjectId, db: Session = Depends(get_session)) -> Any:
    return _status_list(request, db, commune_id)


@router.get("/c", dependencies=[access.PUBLIC_ROUTE])
def verify_form(request: Request) -> Any:
    typed = request.query_params.get("code", "")
    if typed:
        code = services.normalize_code(typed)
        target = services.display_code(code) if code else quote(typed.strip()[:60], safe="")
        return RedirectResponse(f"/c/{target}", status_code=303)
    return render(request, "certificates/verify_form.html", {})


@router.get("/c/{code}.json", dependencies=[access.PUBLIC_ROUTE, Depends(rate_limited)])
def credential(request: Request, code: str, db: Session = Depends(get_session)) -> Any:
    certificate = _lookup(request, db, code)
    if certificate is None:
        return JSONResponse({"detail": "Không tìm thấy chứng nhận."}, status_code=404, headers=OPEN)
    document = services.published_credential(context_of(request), certificate.id)
    if not document:
        # Erased at the learner's request: the credential named them, so it is not published.
        return JSONResponse({"detail": "Chứng nhận này đã bị thu hồi và dữ liệu cá nhân đã được xoá theo yêu cầu."},
                            status_code=410, headers=OPEN)
    # A revoked certificate's credential stays as issued: its status list says it is revoked.
    return JSONResponse(document, media_type="application/vc+ld+json", headers={
        **OPEN, "Content-Disposition": f'inline; filename="{certificate.code}.json"'})


@router.get("/c/{code}.pdf", dependencies=[access.PUBLIC_ROUTE, Depends(rate_limited)])
def pdf(request: Request, code: str, db: Session = Depends(get_session)) -> Any:
    from lms.plugins.certificates.pdf import CertificateText, render_pdf

    certificate = _found(request, db, code)
    context = _context(request, certificate)
    revoked = certificate.revoked_at is not None
    # A revoked certificate's PDF carries "ĐÃ THU HỒI" across the page: no clean copy is handed out.
    data = render_pdf(CertificateText(
        learner_name=certificate.learner_name, course_title=certificate.course_title,
        issued_on=local(certificate.issued_at).date(), commune_name=certificate.commune_name,
        province_name=certificate.province_name,
        signer_title="\n".join(context["signer_lines"]), signer_name=context["signer_name"],
        code=context["code"], verify_url=context["verify_url"],
        revoked_on=local(certificate.revoked_at).date() if revoked else None))
    name = f"chung-nhan-{certificate.code}{'-da-thu-hoi' if revoked else ''}.pdf"
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/c/{code}/print", dependencies=[access.PUBLIC_ROUTE, Depends(rate_limited)])
def printable(request: Request, code: str, db: Session = Depends(get_session)) -> Any:
    from lms.qr import qr_svg

    certificate = _found(request, db, code)
    context = _context(request, certificate, db)
    context["qr"] = qr_svg(context["verify_url"])
    return render(request, "certificates/print.html", context)


@router.get("/c/{code}", dependencies=[access.PUBLIC_ROUTE, Depends(rate_limited)])
def verify(request: Request, code: str, db: Session = Depends(get_session)) -> Any:
    certificate = _lookup(request, db, code)
    if certificate is None:
        return render(request, "certificates/not_found.html", {}, status_code=404)
    return render(request, "certificates/verify.html", _context(request, certificate, db))


@router.get("/my/certificates")
def mine(request: Request, user: User = Depends(access.signed_in),
         db: Session = Depends(get_session)) -> Any:
    rows = [(c, services.display_code(c.code)) for c in services.of_learner(db, user_id=user.id)]
    return render(request, "certificates/mine.html", {"rows": rows})


# --- Staff ---------------------------------------------------------------------


def _in_scope(db: Session, user: User, certificate_id: int) -> Certificate:
    certificate = db.get(Certificate, certificate_id)
    if certificate is None or (user.role != "admin" and certificate.commune_id != user.commune_id):
        raise HTTPException(404)
    return certificate


@router.get("/staff/certificates")
def staff_list(request: Request, user: User = Depends(access.staff),
               db: Session = Depends(get_session)) -> Any:
    query = request.query_params.get("q", "")
    commune_id = None if user.role == "admin" else user.commune_id
    rows = services.for_commune(db, commune_id=commune_id, query=query)
    return render(request, "certificates/staff_list.html", {
        "rows": [(c, services.display_code(c.code)) for c in rows], "q": query[:100]})


def _staff_page(request: Request, db: Session, certificate: Certificate,
                errors: dict[str, str] | None = None, status: int = 200) -> Any:
    context = _context(request, certificate)
    context.update({"audit": services.audit_of(db, certificate.id), "errors": errors or {},
                    "saved": request.query_params.get("saved")})
    if certificate.replaced_by_id:
        replacement = db.get(Certificate, certificate.replaced_by_id)
        context["replacement"] = services.display_code(replacement.code) if replacement else None
    return render(request, "certificates/staff_detail.html", context, status_code=status)


@router.get("/staff/certificates/{certificate_id}")
def staff_detail(request: Request, certificate_id: ObjectId, user: User = Depends(access.staff),
                 db: Session = Depends(get_session)) -> Any:
    return _staff_page(request, db, _in_scope(db, user, certificate_id))


@router.post("/staff/certificates/{certificate_id}/revoke")
def staff_revoke(request: Request, certificate_id: ObjectId, values: FormValues,
                 user: User = Depends(access.staff), db: Session = Depends(get_session)) -> Any:
    certificate = _in_scope(db, user, certificate_id)
    try:
        services.revoke(context_of(request), certificate_id=certificate.id, actor=user,
                        reason=values.get("reason", ""))
    except NotFound:
        raise
    except ServiceError as exc:
        # Read again: the refusal may come from a change made meanwhile elsewhere.
        return _staff_page(request, db, _in_scope(db, user, certificate_id), {"reason": exc.message},
                           status=422)
    return RedirectResponse(f"/staff/certificates/{certificate_id}?saved=revoked", status_code=303)


@router.post("/staff/certificates/{certificate_id}/reissue")
def staff_reissue(request: Request, certificate_id: ObjectId, values: FormValues,
                  user: User = Depends(access.staff), db: Session = Depends(get_session)) -> Any:
    certificate = _in_scope(db, user, certificate_id)
    try:
        fresh = services.reissue(context_of(request), certificate_id=certificate.id, actor=user,
                                 full_name=values.get("full_name", ""))
    except FormErrors as exc:
        return _staff_page(request, db, certificate, exc.errors, status=422)
    except NotFound:
        raise
    except ServiceError as exc:
        return _staff_page(request, db, _in_scope(db, user, certificate_id), {"full_name": exc.message},
                           status=422)
    return RedirectResponse(f"/staff/certificates/{fresh.id}?saved=reissued", status_code=303)
