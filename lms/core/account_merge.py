"""Staff pages to merge two accounts of one person: find the other account, preview, merge."""

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlmodel import Session

from lms import security as access
from lms.context import context_of
from lms.core import merge_services as merging
from lms.core.models import Place, User
from lms.core.services import AUDIENCES
from lms.db import get_session
from lms.errors import NotFound
from lms.forms import FormValues, ObjectId
from lms.templating import render

router = APIRouter()


def _village_names(db: Session, ids: set[int | None]) -> dict[int, str]:
    return dict(db.exec(select(Place.id, Place.name).where(Place.id.in_(ids - {None}))).all())


@router.get("/staff/users/{user_id}/merge")
def merge_search(request: Request, user_id: ObjectId, user: User = Depends(access.staff),
                 db: Session = Depends(get_session)) -> Any:
    person = db.get(User, user_id)
    if person is None or (user.role != "admin" and person.commune_id != user.commune_id):
        raise NotFound()
    query = (request.query_params.get("q") or "").strip()[:100]
    found = merging.candidates(db, actor=user, person=person, query=query)
    villages = _village_names(db, {u.village_id for u in found} | {person.village_id})
    return render(request, "core/merge_search.html", {
        "person": person, "q": query, "found": found, "villages": villages})


def _preview_page(request: Request, db: Session, plan: merging.MergePlan, error: str = "",
                  status: int = 200) -> Any:
    villages = _village_names(db, {plan.keep.village_id, plan.drop.village_id})
    return render(request, "core/merge_preview.html", {
        "plan": plan, "villages": villages, "audiences": AUDIENCES, "error": error}, status_code=status)


@router.get("/staff/users/{keep_id}/merge/{drop_id}")
def merge_preview(request: Request, keep_id: ObjectId, drop_id: ObjectId, user: User = Depends(access.staff),
                  db: Session = Depends(get_session)) -> Any:
    plan = merging.preview(db, request.app.state.pm, actor=user, keep_id=keep_id, drop_id=drop_id)
    return _preview_page(request, db, plan)


@router.post("/staff/users/{keep_id}/merge/{drop_id}")
def merge_accounts(request: Request, keep_id: ObjectId, drop_id: ObjectId, values: FormValues,
                   user: User = Depends(access.staff), db: Session = Depends(get_session)) -> Any:
    if values.get("same_person") != "1":
        plan = merging.preview(db, request.app.state.pm, actor=user, keep_id=keep_id, drop_id=drop_id)
        return _preview_page(request, db, plan, merging.CONFIRM_MISSING, status=422)
    # A refusal (merged meanwhile, another commune) is rendered by the app's error handler.
    merging.merge(context_of(request), actor=user, keep_id=keep_id, drop_id=drop_id)
    return RedirectResponse(f"/staff/users/{keep_id}?saved=merged", status_code=303)
