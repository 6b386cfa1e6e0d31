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
from lms.plugins.certificates.credential import issuer_profile
from lms.plugins.certificates.models import Certificate
from lms.ratelimit import client_key
from lms.templating import local, render

router = APIRouter()


def rate_limited(request: Request) -> None:
    """Verification is public; a per-client limit keeps codes from being tried in bulk."""
    if not services.count_verification(context_of(request), client_key(request, "verify")):
        raise HTTPException(429, headers={"Retry-After": "60"})


def _settings(request: Request) -> Any:
    return request.app.state.settings


def _found(db: Session, code: str) -> Certificate:
    certificate = services.find(db, code)
    if certificate is None:
        raise HTTPException(404)
    return certificate


def _context(request: Request, certificate: Certificate) -> dict[str, Any]:
    settings = _settings(request)
    return {
        "certificate": certificate, "code": services.display_code(certificate.code),
        "verify_url": services.verify_url(settings, certificate.code),
        "issuer": services.issuer_name(certificate.commune_name, settings),
        "signer_lines": settings.certificate_signer_title.replace("\\n", "\n").split("\n"),
        "signer_name": settings.certificate_signer_name,
    }


@router.get("/issuer", dependencies=[access.PUBLIC_ROUTE])
def issuer(request: Request) -> Any:
    settings = _settings(request)
    profile = issuer_profile(base_url=settings.base_url.rstrip("/"), name=settings.site_name,
                             key=services.issuer_key(settings))
    return JSONResponse(profile, headers={"Cache-Control": "public, max-age=3600"})


@router.get("/c", dependencies=[access.PUBLIC_ROUTE])
def verify_form(request: Request) -> Any:
    typed = request.query_params.get("code", "")
    if typed:
        code = services.normalize_code(typed)
        target = services.display_code(code) if code else quote(typed.strip()[:60], safe="")
        return RedirectResponse(f"/c/{target}", status_code=303)
    return render(request, "certificates/verify_form.html", {})


@router.get("/c/{code}.json", dependencies=[access.PUBLIC_ROUTE, Depends(rate_limited)])
def credential(code: str, db: Session = Depends(get_session)) -> Any:
    certificate = services.find(db, code)
    if certificate is None:
        return JSONResponse({"detail": "Không tìm thấy chứng nhận."}, status_code=404)
    return JSONResponse(certificate.credential, media_type="application/vc+ld+json",
                        headers={"Content-Disposition": f'inline; filename="{certificate.code}.json"'})


@router.get("/c/{code}.pdf", dependencies=[access.PUBLIC_ROUTE, Depends(rate_limited)])
def pdf(request: Request, code: str, db: Session = Depends(get_session)) -> Any:
    from lms.plugins.certificates.pdf import CertificateText, render_pdf

    certificate = _found(db, code)
    context = _context(request, certificate)
    data = render_pdf(CertificateText(
        learner_name=certificate.learner_name, course_title=certificate.course_title,
        issued_on=local(certificate.issued_at).date(), commune_name=certificate.commune_name,
        province_name=certificate.province_name,
        signer_title="\n".join(context["signer_lines"]), signer_name=context["signer_name"],
        code=context["code"], verify_url=context["verify_url"]))
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="chung-nhan-{certificate.code}.pdf"'})


@router.get("/c/{code}/print", dependencies=[access.PUBLIC_ROUTE, Depends(rate_limited)])
def printable(request: Request, code: str, db: Session = Depends(get_session)) -> Any:
    from lms.qr import qr_svg

    certificate = _found(db, code)
    context = _context(request, certificate)
    context["qr"] = qr_svg(context["verify_url"])
    return render(request, "certificates/print.html", context)


@router.get("/c/{code}", dependencies=[access.PUBLIC_ROUTE, Depends(rate_limited)])
def verify(request: Request, code: str, db: Session = Depends(get_session)) -> Any:
    certificate = services.find(db, code)
    if certificate is None:
        return render(request, "certificates/not_found.html", {}, status_code=404)
    return render(request, "certificates/verify.html", _context(request, certificate))


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
