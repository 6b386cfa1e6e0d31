"""Sharing a certificate: its preview picture, LinkedIn, baked badges; the print page's assets.

Public like /c/<code>, and looked up the same way (router._found): a picture tells whether a
code exists, so a miss counts against the limit that stops guessing.
"""

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlmodel import Session

from lms import security as access
from lms.context import context_of
from lms.db import get_session
from lms.plugins.certificates import services, sharing
from lms.plugins.certificates.router import _found, rate_limited

router = APIRouter()

PREVIEW_CACHE = "public, max-age=3600"
# A baked badge repeats the credential; after a revocation it should not linger long in caches.
BADGE_CACHE = "public, max-age=300"
ASSET_CACHE = "public, max-age=604800"

_HERE = Path(__file__).resolve().parent
# The print page's own stylesheet, and the DejaVu fonts the PDF embeds (../fonts).
PRINT_ASSETS = {
    "print-sheet.css": _HERE / "static" / "print-sheet.css",
    "DejaVuSans.ttf": _HERE / "fonts" / "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf": _HERE / "fonts" / "DejaVuSans-Bold.ttf",
}


def _not_modified(request: Request, etag: str) -> bool:
    wanted = request.headers.get("if-none-match", "")
    return any(tag.strip().removeprefix("W/") == etag for tag in wanted.split(",")) or wanted.strip() == "*"


def _cached(request: Request, etag: str, cache: str, body: Any, media_type: str,
            headers: dict[str, str] | None = None) -> Response:
    all_headers = {"ETag": etag, "Cache-Control": cache, **(headers or {})}
    if _not_modified(request, etag):
        return Response(status_code=304, headers=all_headers)
    return Response(body() if callable(body) else body, media_type=media_type, headers=all_headers)


@router.get("/c/{code}/og.png", dependencies=[access.PUBLIC_ROUTE, Depends(rate_limited)])
def open_graph_image(request: Request, code: str, db: Session = Depends(get_session)) -> Any:
    card = sharing.card_of(_found(request, db, code), request.app.state.settings)
    return _cached(request, sharing.card_etag(card), PREVIEW_CACHE, lambda: sharing.open_graph_png(card),
                   "image/png")


@router.get("/c/{code}/linkedin", dependencies=[access.PUBLIC_ROUTE, Depends(rate_limited)])
def add_to_linkedin(request: Request, code: str, db: Session = Depends(get_session)) -> Any:
    url = sharing.linkedin_url(_found(request, db, code), request.app.state.settings)
    return RedirectResponse(url, status_code=303)


@router.get("/c/{code}/badge.png", dependencies=[access.PUBLIC_ROUTE, Depends(rate_limited)])
def badge_png(request: Request, code: str, db: Session = Depends(get_session)) -> Any:
    certificate = _found(request, db, code)
    sharing.refuse_revoked(certificate)
    credential = services.published_credential(context_of(request), certificate.id)  # as /c/<code>.json
    data = sharing.baked_png(certificate, credential, request.app.state.settings)
    return _cached(request, sharing.badge_etag(credential, "png"), BADGE_CACHE, data, "image/png", {
        "Content-Disposition": f'attachment; filename="huy-hieu-{certificate.code}.png"'})


@router.get("/c/{code}/badge.svg", dependencies=[access.PUBLIC_ROUTE, Depends(rate_limited)])
def badge_svg(request: Request, code: str, db: Session = Depends(get_session)) -> Any:
    certificate = _found(request, db, code)
    sharing.refuse_revoked(certificate)
    credential = services.published_credential(context_of(request), certificate.id)  # as /c/<code>.json
    data = sharing.baked_svg(certificate, credential, request.app.state.settings)
    return _cached(request, sharing.badge_etag(credential, "svg"), BADGE_CACHE, data.encode("utf-8"),
                   "image/svg+xml", {
                       "Content-Disposition": f'attachment; filename="huy-hieu-{certificate.code}.svg"',
                       # Our own origin serves it: an SVG opened on its own runs no script.
                       "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})


@router.get("/certificates/print/{name}", dependencies=[access.PUBLIC_ROUTE])
def print_asset(name: str) -> Any:
    """The print page's stylesheet and the DejaVu fonts it loads (the PDF's own)."""
    path = PRINT_ASSETS.get(name)
    if path is None:
        raise HTTPException(404)
    media_type = "text/css; charset=utf-8" if name.endswith(".css") else "font/ttf"
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": ASSET_CACHE})
