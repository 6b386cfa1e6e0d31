"""Pages for requests about a person's data: filed by the person or for them, and the staff's
queue with the legal clocks."""

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlmodel import Session

from lms import security as access
from lms.context import context_of
from lms.core import data_requests, personal_data_services
from lms.core.models import User
from lms.db import get_session, utcnow
from lms.forms import FormValues, ObjectId
from lms.templating import render

router = APIRouter()


@router.post("/account/data/erase")
def request_erasure(request: Request, values: FormValues, user: User = Depends(access.signed_in)) -> Any:
    if values.get("confirm") != "1":
        return RedirectResponse("/account/data?confirm=1#xoa", status_code=303)
    data_requests.file_erasure(context_of(request), person_id=user.id, filed_by=user)
    return RedirectResponse("/account/data?requested=1#xoa", status_code=303)


@router.post("/staff/users/{user_id}/erase-request")
def request_erasure_for(request: Request, user_id: ObjectId, user: User = Depends(access.staff)) -> Any:
    data_requests.file_erasure(context_of(request), person_id=user_id, filed_by=user)
    return RedirectResponse("/staff/data-requests?filed=1", status_code=303)


@router.get("/staff/data-requests")
def queue(request: Request, user: User = Depends(access.staff), db: Session = Depends(get_session)) -> Any:
    rows = data_requests.open_requests(db, actor=user)
    ids = {r.user_id for r in rows} | {r.filed_by_id for r in rows if r.filed_by_id}
    names = dict(db.exec(select(User.id, User.full_name).where(User.id.in_(ids))).all()) if ids else {}
    return render(request, "core/data_requests.html", {
        "rows": rows, "names": names, "now": utcnow(), "soon": data_requests.SOON,
        "saved": request.query_params.get("saved"), "filed": request.query_params.get("filed")},
        headers={"Cache-Control": "no-store"})


@router.post("/staff/data-requests/{request_id}/ack")
def acknowledge(request: Request, request_id: ObjectId, user: User = Depends(access.staff)) -> Any:
    data_requests.acknowledge(context_of(request), actor=user, request_id=request_id)
    return RedirectResponse("/staff/data-requests?saved=ack", status_code=303)


@router.post("/staff/data-requests/{request_id}/done")
def carry_out(request: Request, request_id: ObjectId, values: FormValues, user: User = Depends(access.staff),
              db: Session = Depends(get_session)) -> Any:
    if values.get("confirm") != "1":
        return RedirectResponse("/staff/data-requests?saved=confirm", status_code=303)
    done = data_requests.carry_out(context_of(request), actor=user, request_id=request_id)
    from lms.personal_data import ErasureNote

    notes = [ErasureNote(**n) for n in done.outcome]
    labels = personal_data_services.labels(db, request.app.state.pm, db.get(User, done.user_id))
    return render(request, "core/erase_receipt.html", {"notes": notes, "when": done.completed_at, "labels": labels},
                  headers={"Cache-Control": "no-store"})
