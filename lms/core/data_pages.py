"""Pages for a person's choices and requests about their data: consents withdrawn or given,
requests filed by the person or for them, and the staff's queue with the legal clocks."""

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlmodel import Session

from lms import security as access
from lms.context import context_of
from lms.core import consent_services, data_requests, personal_data_services
from lms.core.models import User
from lms.db import get_session, utcnow
from lms.errors import FormErrors, NotFound
from lms.forms import FormValues, ObjectId
from lms.personal_data import ErasureNote
from lms.templating import render

router = APIRouter()


def _purpose(request: Request, key: str) -> consent_services.ConsentPurpose:
    found = consent_services.purposes(request.app.state.pm).get(key)
    if found is None:
        raise NotFound()
    return found


@router.post("/account/consents/{purpose}")
def my_consent(request: Request, purpose: str, values: FormValues, user: User = Depends(access.signed_in)) -> Any:
    declared = _purpose(request, purpose)
    granted = values.get("granted") == "1"
    if declared.required and not granted and values.get("confirm") != "1":
        return RedirectResponse("/account?saved=confirm#dong-y", status_code=303)
    consent_services.change(context_of(request), person_id=user.id, purpose=purpose, granted=granted, actor=user)
    saved = "given" if granted else ("erase_filed" if declared.required else "withdrawn")
    return RedirectResponse(f"/account?saved={saved}#dong-y", status_code=303)


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


@router.post("/staff/users/{user_id}/data-request")
def request_for(request: Request, user_id: ObjectId, values: FormValues, user: User = Depends(access.staff)) -> Any:
    """Staff file what the person asked for in person or on paper: restrict, object, erase."""
    try:
        data_requests.file(context_of(request), person_id=user_id, filed_by=user, kind=values.get("kind", ""),
                           purpose=values.get("purpose") or None)
    except FormErrors:
        return RedirectResponse(f"/staff/users/{user_id}?data=purpose#du-lieu", status_code=303)
    return RedirectResponse("/staff/data-requests?filed=1", status_code=303)


@router.post("/staff/users/{user_id}/consents/{purpose}")
def consent_for(request: Request, user_id: ObjectId, purpose: str, values: FormValues,
                user: User = Depends(access.staff)) -> Any:
    """The person told staff they withdraw (or give) a purpose: recorded as staff's, on their behalf."""
    declared = _purpose(request, purpose)
    granted = values.get("granted") == "1"
    consent_services.change(context_of(request), person_id=user_id, purpose=declared.key, granted=granted,
                            actor=user)
    return RedirectResponse(f"/staff/users/{user_id}?data=consent#du-lieu", status_code=303)


def _queue(request: Request, db: Session, user: User, *, errors: dict | None = None, values: dict | None = None,
           status: int = 200) -> Any:
    rows = data_requests.open_requests(db, actor=user)
    done = data_requests.done_requests(db, actor=user)
    ids = {i for r in rows + done for i in (r.user_id, r.filed_by_id, r.acknowledged_by_id, r.completed_by_id,
                                              r.extended_by_id) if i}
    names = dict(db.exec(select(User.id, User.full_name).where(User.id.in_(ids))).all()) if ids else {}
    return render(request, "core/data_requests.html", {
        "rows": rows, "done": done, "names": names, "now": utcnow(), "soon": data_requests.SOON,
        "kinds": data_requests.KINDS, "purposes": consent_services.purposes(request.app.state.pm),
        "errors": errors or {}, "values": values or {},
        "saved": None if errors else request.query_params.get("saved"),
        "filed": None if errors else request.query_params.get("filed")},
        status_code=status, headers={"Cache-Control": "no-store"})


@router.get("/staff/data-requests")
def queue(request: Request, user: User = Depends(access.staff), db: Session = Depends(get_session)) -> Any:
    return _queue(request, db, user)


@router.post("/staff/data-requests/{request_id}/ack")
def acknowledge(request: Request, request_id: ObjectId, values: FormValues, user: User = Depends(access.staff)) -> Any:
    data_requests.acknowledge(context_of(request), actor=user, request_id=request_id,
                              processor=values.get("processor") == "1")
    return RedirectResponse("/staff/data-requests?saved=ack", status_code=303)


@router.post("/staff/data-requests/{request_id}/extend")
def extend(request: Request, request_id: ObjectId, values: FormValues, user: User = Depends(access.staff),
           db: Session = Depends(get_session)) -> Any:
    try:
        data_requests.extend(context_of(request), actor=user, request_id=request_id,
                             days_raw=values.get("days", ""), reason=values.get("reason", ""))
    except FormErrors as exc:
        return _queue(request, db, user, errors={request_id: exc.errors}, values={request_id: dict(values)},
                      status=422)
    return RedirectResponse("/staff/data-requests?saved=extended", status_code=303)


@router.post("/staff/data-requests/{request_id}/done")
def carry_out(request: Request, request_id: ObjectId, values: FormValues, user: User = Depends(access.staff),
              db: Session = Depends(get_session)) -> Any:
    if values.get("confirm") != "1":
        return RedirectResponse("/staff/data-requests?saved=confirm", status_code=303)
    done = data_requests.carry_out(context_of(request), actor=user, request_id=request_id)
    notes = [ErasureNote(**n) for n in done.outcome]
    pm = request.app.state.pm
    labels = personal_data_services.labels(db, pm, db.get(User, done.user_id))
    labels.update({f"consent:{k}": p.label for k, p in consent_services.purposes(pm).items()})
    return render(request, "core/erase_receipt.html", {
        "notes": notes, "when": done.completed_at, "labels": labels, "kind": done.kind,
        "kinds": data_requests.KINDS}, headers={"Cache-Control": "no-store"})
