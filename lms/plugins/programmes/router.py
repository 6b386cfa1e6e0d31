"""Pages: the administrator's choice of courses per audience, and the public check of a record."""

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlmodel import Session

from lms import security as access
from lms.context import context_of
from lms.core.models import Place, User
from lms.core.services import AUDIENCES
from lms.db import get_session
from lms.forms import FormLists
from lms.plugins.courses import services as courses
from lms.plugins.programmes import services
from lms.qr import qr_svg
from lms.templating import render

router = APIRouter()


@router.get("/staff/pho-cap")
def settings_page(request: Request, user: User = Depends(access.admin), db: Session = Depends(get_session)) -> Any:
    catalog = courses.catalog(request, db)
    return render(request, "programmes/settings.html", {
        "audiences": AUDIENCES, "required": services.required(db),
        "courses": [c for c in catalog.courses if c.commune_id is None],
        "saved": request.query_params.get("saved"), "reached": request.query_params.get("reached")})


@router.post("/staff/pho-cap/{audience}")
def settings_save(request: Request, audience: str, lists: FormLists, user: User = Depends(access.admin)) -> Any:
    ids = [int(v) for v in lists.get("course_ids", []) if v.isascii() and v.isdigit() and len(v) < 10]
    reached = services.set_courses(context_of(request), actor=user, audience=audience, course_ids=ids)
    return RedirectResponse(f"/staff/pho-cap?saved={audience}&reached={reached}", status_code=303)


@router.get("/pho-cap/{code}", dependencies=[access.PUBLIC_ROUTE])
def record_page(request: Request, code: str, db: Session = Depends(get_session)) -> Any:
    completion = services.find(db, code)
    if completion is None:
        raise HTTPException(404)
    commune = db.get(Place, completion.commune_id) if completion.commune_id else None
    url = f"{request.app.state.settings.base_url.rstrip('/')}/pho-cap/{services.display_code(completion.code)}"
    names = dict(db.exec(select(Place.id, Place.name).where(Place.kind == "commune")).all())
    return render(request, "programmes/record.html", {
        "completion": completion, "commune": commune, "audience": AUDIENCES.get(completion.audience, ""),
        "code": services.display_code(completion.code), "qr": qr_svg(url), "url": url, "level": services.LEVEL,
        "names": names}, headers={"X-Robots-Tag": "noindex"})
