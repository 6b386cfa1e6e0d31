"""Event pages: staff set-up, poster, projector display, check-in; public registration and tickets."""

import secrets
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlmodel import Session

from lms import security as access
from lms import share_images
from lms.context import context_of
from lms.core import services as core
from lms.core.models import Place, User
from lms.db import get_session
from lms.errors import FormErrors, NotFound, ServiceError
from lms.forms import FormLists, FormValues, ObjectId, checkbox, posted_id
from lms.plugin_host import flatten
from lms.plugins.courses import services as courses
from lms.plugins.events import services
from lms.plugins.events.models import KINDS, Event
from lms.qr import qr_svg
from lms.templating import local, render

router = APIRouter()


def _base(request: Request) -> str:
    return request.app.state.settings.base_url.rstrip("/")


def event_url(request: Request, event: Event) -> str:
    return f"{_base(request)}/e/{event.code}"


def ticket_url(request: Request, token: str) -> str:
    return f"{_base(request)}/t/{token}"


def _place_label(db: Session, event: Event) -> str:
    village = db.get(Place, event.village_id) if event.village_id else None
    return services.place_label(event, village.name if village else None)


def _event_in_scope(db: Session, user: User, event_id: int) -> Event:
    event = db.get(Event, event_id)
    if event is None or (user.role != "admin" and event.commune_id != user.commune_id):
        raise HTTPException(404)
    return event


# --- Staff: list, create, edit -------------------------------------------------------


@router.get("/staff/events")
def staff_events(request: Request, user: User = Depends(access.team),
                 db: Session = Depends(get_session)) -> Any:
    statement = select(Event).order_by(Event.starts_at.desc())
    if user.role != "admin":
        statement = statement.where(Event.commune_id == user.commune_id)
    events = db.exec(statement.limit(200)).scalars().all()
    rows = [(e, services.registered_count(db, e.id), services.attended_count(db, e.id)) for e in events]
    return render(request, "events/staff_list.html", {"rows": rows, "kinds": KINDS})


def _form_context(request: Request, db: Session, user: User, commune: Place | None,
                  values: dict[str, Any], errors: dict[str, str], event: Event | None = None) -> dict:
    villages = []
    if commune:
        villages = db.exec(select(Place).where(Place.parent_id == commune.id, Place.kind == "village",
                                               Place.active.is_(True)).order_by(Place.name)).scalars().all()
    communes = []
    if user.role == "admin":
        communes = db.exec(select(Place).where(Place.kind == "commune").order_by(Place.name)).scalars().all()
    return {"values": values, "errors": errors, "kinds": KINDS, "villages": villages,
            "courses": courses.catalog(request, db).for_commune(commune.id if commune else None),
            "event": event, "commune": commune,
            "communes": communes}


def _values_of(event: Event, course_ids: list[int]) -> dict[str, Any]:
    def field(value: Any) -> str:
        return services.local(value).strftime("%Y-%m-%dT%H:%M") if value else ""

    return {"title": event.title, "kind": event.kind, "village_id": str(event.village_id or ""),
            "place_text": event.place_text, "starts_at": field(event.starts_at),
            "ends_at": field(event.ends_at), "capacity": str(event.capacity or ""),
            "registration_opens_at": field(event.registration_opens_at),
            "registration_closes_at": field(event.registration_closes_at),
            "course_ids": [str(c) for c in course_ids]}


def _commune_of(db: Session, user: User, requested: Any) -> Place | None:
    if user.role == "admin" and requested and posted_id(str(requested)):
        place = db.get(Place, int(requested))
        return place if place and place.kind == "commune" else None
    return db.get(Place, user.commune_id) if user.commune_id else None


@router.get("/staff/events/new")
def event_new(request: Request, user: User = Depends(access.staff),
              db: Session = Depends(get_session)) -> Any:
    commune = _commune_of(db, user, request.query_params.get("commune"))
    return render(request, "events/edit.html", _form_context(request, db, user, commune, {}, {}))


EVENT_FIELDS = ("title", "kind", "village_id", "place_text", "starts_at", "ends_at", "capacity",
                "registration_opens_at", "registration_closes_at")


def _event_input(values: dict[str, str], lists: dict[str, list[str]]) -> tuple[dict[str, Any],
                                                                             services.EventInput]:
    course_ids = lists.get("course_ids", [])
    data = services.EventInput(**{k: values.get(k, "")[:300] for k in EVENT_FIELDS}, course_ids=course_ids)
    return {**values, "course_ids": course_ids}, data


@router.post("/staff/events/new")
def event_create(request: Request, values: FormValues, lists: FormLists, user: User = Depends(access.staff),
                 db: Session = Depends(get_session)) -> Any:
    shown, data = _event_input(values, lists)
    commune = _commune_of(db, user, values.get("commune"))
    if commune is None:
        raise HTTPException(404)
    known = {c.id for c in courses.catalog(request, db).for_commune(commune.id)}
    try:
        event = services.save_event(context_of(request), actor=user, data=data, known_course_ids=known,
                                    commune_id=commune.id)
    except FormErrors as exc:
        return render(request, "events/edit.html",
                      _form_context(request, db, user, commune, shown, exc.errors), status_code=422)
    return RedirectResponse(f"/staff/events/{event.id}?saved=1", status_code=303)


@router.get("/staff/events/{event_id}")
def event_detail(request: Request, event_id: ObjectId, user: User = Depends(access.team),
                 db: Session = Depends(get_session)) -> Any:
    event = _event_in_scope(db, user, event_id)
    commune = db.get(Place, event.commune_id)
    context = _form_context(request, db, user, commune,
                            _values_of(event, services.course_ids_of(db, event.id)), {}, event)
    context.update({"registered": services.registered_count(db, event.id),
                    "attended": services.attended_count(db, event.id),
                    "url": event_url(request, event), "place": _place_label(db, event),
                    "saved": request.query_params.get("saved")})
    return render(request, "events/detail.html", context)


@router.post("/staff/events/{event_id}")
def event_update(request: Request, event_id: ObjectId, values: FormValues, lists: FormLists,
                 user: User = Depends(access.staff), db: Session = Depends(get_session)) -> Any:
    event = _event_in_scope(db, user, event_id)
    shown, data = _event_input(values, lists)
    commune = db.get(Place, event.commune_id)
    known = {c.id for c in courses.catalog(request, db).for_commune(event.commune_id)}
    try:
        services.save_event(context_of(request), actor=user, data=data, known_course_ids=known,
                            event_id=event.id)
    except FormErrors as exc:
        context = _form_context(request, db, user, commune, shown, exc.errors, event)
        context.update({"registered": services.registered_count(db, event.id),
                        "attended": services.attended_count(db, event.id),
                        "url": event_url(request, event), "place": _place_label(db, event), "saved": None})
        return render(request, "events/detail.html", context, status_code=422)
    return RedirectResponse(f"/staff/events/{event_id}?saved=1", status_code=303)


# --- Poster and projector display -------------------------------------------------------


@router.get("/staff/events/{event_id}/poster")
def poster(request: Request, event_id: ObjectId, user: User = Depends(access.team),
           db: Session = Depends(get_session)) -> Any:
    event = _event_in_scope(db, user, event_id)
    url = event_url(request, event)
    return render(request, "events/poster.html", {
        "event": event, "url": url, "short_url": url.split("://", 1)[-1], "qr": qr_svg(url),
        "place": _place_label(db, event), "kinds": KINDS})


@router.get("/staff/events/{event_id}/display")
def display(request: Request, event_id: ObjectId, user: User = Depends(access.team),
            db: Session = Depends(get_session)) -> Any:
    event = _event_in_scope(db, user, event_id)
    url = event_url(request, event)
    return render(request, "events/display.html", {
        "event": event, "url": url, "short_url": url.split("://", 1)[-1], "qr": qr_svg(url),
        "registered": services.registered_count(db, event.id),
        "attended": services.attended_count(db, event.id)}, block="count")


SLIDE_SECONDS = (15, 5, 120)  # default, least, most
SLIDE_KINDS = ("news", "course", "event", "model")
SLIDES_PER_KIND = 6


def _slides(request: Request, db: Session, commune_id: int, event: Event | None) -> list[Any]:
    """The hall screen's loop: the event's own slide first, then the commune's news, courses and
    other events, taken in turn so that one kind does not fill the loop."""
    offered = [item for item in flatten(request.app.state.pm.hook.channel_items(
        db=db, commune_id=commune_id, limit=SLIDES_PER_KIND)) if item.kind in SLIDE_KINDS]
    by_kind = [[item for item in offered if item.kind == kind
                and not (event is not None and item.key == f"su-kien:{event.code}")] for kind in SLIDE_KINDS]
    slides: list[Any] = [None] if event is not None else []
    for turn in range(SLIDES_PER_KIND):
        slides += [items[turn] for items in by_kind if turn < len(items)]
    return slides


def _slideshow(request: Request, db: Session, *, commune: Place, event: Event | None, path: str) -> Any:
    slides = _slides(request, db, commune.id, event)
    raw_slide, raw_seconds = request.query_params.get("slide", "0"), request.query_params.get("giay", "")
    index = int(raw_slide) % len(slides) if slides and raw_slide.isdigit() and len(raw_slide) < 6 else 0
    default, least, most = SLIDE_SECONDS
    seconds = min(max(int(raw_seconds), least), most) if raw_seconds.isdigit() and len(raw_seconds) < 4 else default
    extra = f"&commune={commune.id}" if request.query_params.get("commune") else ""
    slide = slides[index] if slides else None
    target = (event_url(request, event) if slide is None and event is not None
              else f"{_base(request)}{slide.url}" if slide is not None else "")
    return render(request, "events/slideshow.html", {
        "event": event, "slide": slide, "commune": commune, "count": len(slides), "index": index,
        "seconds": seconds, "next_url": f"{path}?slide={(index + 1) % max(len(slides), 1)}&giay={seconds}{extra}",
        "qr": qr_svg(target) if target else "", "short_url": target.split("://", 1)[-1],
        "place": _place_label(db, event) if event is not None else "", "kinds": KINDS,
        "registered": services.registered_count(db, event.id) if event is not None else 0},
        headers={"Cache-Control": "no-store"})


@router.get("/staff/events/{event_id}/slideshow")
def event_slideshow(request: Request, event_id: ObjectId, user: User = Depends(access.team),
                    db: Session = Depends(get_session)) -> Any:
    event = _event_in_scope(db, user, event_id)
    return _slideshow(request, db, commune=db.get(Place, event.commune_id), event=event,
                      path=f"/staff/events/{event.id}/slideshow")


@router.get("/staff/man-hinh")
def hall_screen(request: Request, user: User = Depends(access.team), db: Session = Depends(get_session)) -> Any:
    commune = _commune_of(db, user, request.query_params.get("commune"))
    if commune is None:
        raise HTTPException(404)
    return _slideshow(request, db, commune=commune, event=None, path="/staff/man-hinh")


# --- Check-in ------------------------------------------------------------------------------


@router.get("/staff/events/{event_id}/checkin")
def checkin_page(request: Request, event_id: ObjectId, user: User = Depends(access.team),
                 db: Session = Depends(get_session)) -> Any:
    event = _event_in_scope(db, user, event_id)
    query = request.query_params.get("q", "")
    return render(request, "events/checkin.html", {
        "joining": core.joining_purposes(request.app.state.pm),
        "event": event, "q": query[:100], "results": services.search(db, event=event, query=query),
        "result": None, "nonce": secrets.token_hex(8), "audiences": core.AUDIENCES,
        "villages": _villages(db, event), "errors": {}, "values": {},
        "attended": services.attended_count(db, event.id),
        "registered": services.registered_count(db, event.id)}, block="results")


def _villages(db: Session, event: Event) -> list[Place]:
    return list(db.exec(select(Place).where(Place.parent_id == event.commune_id, Place.kind == "village",
                                            Place.active.is_(True)).order_by(Place.name)).scalars().all())


@router.post("/staff/events/{event_id}/checkin")
def checkin(request: Request, event_id: ObjectId, values: FormValues, user: User = Depends(access.team),
            db: Session = Depends(get_session)) -> Any:
    event = _event_in_scope(db, user, event_id)
    token = services.token_from_scan(values.get("scan", ""))
    wants_json = "application/json" in request.headers.get("accept", "")
    try:
        result = services.check_in(context_of(request), event_id=event.id, actor=user, token=token or None,
                                   registration_id=posted_id(values.get("registration_id", "")),
                                   nonce=values.get("nonce", ""))
    except NotFound:
        raise
    except ServiceError as exc:
        if wants_json:
            return JSONResponse({"ok": False, "message": exc.message}, status_code=422)
        return _checkin_result(request, db, event, None, exc.message, 422)
    registration = result.registration
    when = services.local(registration.checked_in_at).strftime("%H:%M")
    message = (f"Điểm danh xong: {registration.full_name}" if result.first_time
               else f"{registration.full_name} đã điểm danh lúc {when}")
    if wants_json:
        # A Response, not a dict: FastAPI would check a dict in another trip to the thread pool,
        # and with every thread waiting for a connection this request's would never come back.
        return JSONResponse({"ok": True, "first_time": result.first_time, "message": message,
                             "attended": services.attended_count(db, event.id)})
    return _checkin_result(request, db, event, result, message, 200)


def _checkin_result(request: Request, db: Session, event: Event, result: Any, message: str,
                    status: int) -> Any:
    return render(request, "events/checkin.html", {
        "joining": core.joining_purposes(request.app.state.pm),
        "event": event, "q": "", "results": [], "result": result, "message": message,
        "nonce": secrets.token_hex(8), "audiences": core.AUDIENCES, "villages": _villages(db, event),
        "errors": {}, "values": {}, "attended": services.attended_count(db, event.id),
        "registered": services.registered_count(db, event.id)}, status_code=status)


def _registration_input(values: dict[str, str], pm: Any) -> services.RegistrationInput:
    return services.RegistrationInput(
        full_name=values.get("full_name", ""), phone=values.get("phone", ""),
        village_id=values.get("village_id", ""), audience=values.get("audience", ""),
        consent=checkbox(values, "consent"), idempotency_key=values.get("idempotency_key", ""),
        joining=core.joining_from_form(pm, values))


@router.post("/staff/events/{event_id}/walk-in")
def walk_in(request: Request, event_id: ObjectId, values: FormValues, user: User = Depends(access.team),
            db: Session = Depends(get_session)) -> Any:
    event = _event_in_scope(db, user, event_id)
    try:
        data = _registration_input(values, request.app.state.pm)
        result = services.walk_in(context_of(request), event_id=event.id, data=data, helper=user)
    except FormErrors as exc:
        return render(request, "events/checkin.html", {
        "joining": core.joining_purposes(request.app.state.pm),
            "event": event, "q": "", "results": [], "result": None, "nonce": secrets.token_hex(8),
            "audiences": core.AUDIENCES, "villages": _villages(db, event), "errors": exc.errors,
            "values": values, "walk_in_open": True,
            "attended": services.attended_count(db, event.id),
            "registered": services.registered_count(db, event.id)}, status_code=422)
    name = result.registration.full_name
    return _checkin_result(request, db, event, result, f"Đã đăng ký và điểm danh: {name}", 200)


# --- Attendance ----------------------------------------------------------------------------


@router.get("/staff/events/{event_id}/attendance")
def attendance(request: Request, event_id: ObjectId, user: User = Depends(access.team),
               db: Session = Depends(get_session)) -> Any:
    event = _event_in_scope(db, user, event_id)
    return render(request, "events/attendance.html", {
        "event": event, "report": services.attendance(db, event=event), "audiences": core.AUDIENCES})


@router.get("/staff/events/{event_id}/attendance.csv")
def attendance_csv(request: Request, event_id: ObjectId, user: User = Depends(access.staff),
                   db: Session = Depends(get_session)) -> Any:
    event = _event_in_scope(db, user, event_id)
    data = services.attendance_csv(services.attendance(db, event=event))
    return Response(data, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="diem-danh-{event.code}.csv"'})


@router.get("/staff/events/{event_id}/attendance.xlsx")
def attendance_xlsx(request: Request, event_id: ObjectId, user: User = Depends(access.staff),
                    db: Session = Depends(get_session)) -> Any:
    event = _event_in_scope(db, user, event_id)
    data = services.attendance_xlsx(services.attendance(db, event=event), title=event.title)
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="diem-danh-{event.code}.xlsx"'})


# --- Public: register and ticket ------------------------------------------------------------


def _public_event(db: Session, code: str) -> tuple[Event, str]:
    """The event and its place label."""
    found = services.event_with_village(db, code)
    if found is None:
        raise HTTPException(404)
    event, village_name = found
    return event, services.place_label(event, village_name)


def _event_card(request: Request, event: Event, place: str) -> share_images.ShareCard:
    when = local(event.starts_at).strftime("%H:%M %d/%m/%Y")
    return share_images.ShareCard(title=event.title, kicker=f"{KINDS.get(event.kind, 'Sự kiện')} · {when}",
                                  footer=place or request.app.state.settings.site_name)


def _event_share(request: Request, event: Event, place: str) -> share_images.SharePreview:
    card = _event_card(request, event, place)
    description = f"{card.kicker}{' · ' + place if place else ''}. Đăng ký tham dự miễn phí."
    return share_images.SharePreview.of(request, card, description=description, path=f"/e/{event.code}",
                                        image_path=f"/e/{event.code}/anh-chia-se.png")


@router.get("/e/{code}/anh-chia-se.png", dependencies=[access.PUBLIC_ROUTE], include_in_schema=False)
def event_share_image(request: Request, code: str, db: Session = Depends(get_session)) -> Any:
    event, place = _public_event(db, code)
    return share_images.response(request.app.state.settings, _event_card(request, event, place),
                                 request.query_params.get("v", ""), request=request)


def _register_page(request: Request, db: Session, event: Event, place: str, *, values: dict[str, Any],
                   errors: dict[str, str], message: str | None = None, status: int = 200) -> Any:
    state = services.registration_state(event)
    full = event.capacity is not None and services.registered_count(db, event.id) >= event.capacity
    closed_message = services.STATE_MESSAGES.get(state or ("full" if full else ""), None)
    return render(request, "events/register.html", {
        "event": event, "values": values, "errors": errors, "message": message,
        "closed_message": closed_message, "place": place, "kinds": KINDS,
        # Full or closed: the form stays, so those already registered can get their ticket back.
        "open_form": state not in ("past", "not_yet"),
        "villages": core.village_choices(db, event.commune_id), "audiences": core.AUDIENCES,
        "consent_text": core.consent_text(request.app.state.pm, "events"),
        "account_text": core.consent_text(request.app.state.pm, "learning"),
        "joining": core.joining_purposes(request.app.state.pm),
        "idempotency_key": values.get("idempotency_key") or secrets.token_urlsafe(16),
        "share_url": event_url(request, event), "share": _event_share(request, event, place),
    }, status_code=status)


@router.get("/e/{code}", dependencies=[access.PUBLIC_ROUTE])
def register_form(request: Request, code: str, db: Session = Depends(get_session)) -> Any:
    event, place = _public_event(db, code)
    if code != event.code:
        return RedirectResponse(f"/e/{event.code}", status_code=301)
    return _register_page(request, db, event, place, values={}, errors={})


@router.post("/e/{code}", dependencies=[access.PUBLIC_FORM_ROUTE])
def register_submit(request: Request, code: str, values: FormValues, db: Session = Depends(get_session)) -> Any:
    event, place = _public_event(db, code)
    if access.expired_form(request):
        # Nothing is written; what the person typed comes back with a fresh token.
        return _register_page(request, db, event, place, values=values, errors={}, message=access.EXPIRED_FORM,
                              status=403)
    user = request.state.user if values.get("as_user") == "1" else None
    try:
        data = _registration_input(values, request.app.state.pm)
        done = services.register(context_of(request), event_id=event.id, data=data, user=user)
    except FormErrors as exc:
        return _register_page(request, db, event, place, values=values, errors=exc.errors, status=422)
    except NotFound:
        raise
    except ServiceError as exc:
        return _register_page(request, db, event, place, values=values, errors={}, message=exc.message,
                              status=409)
    suffix = "?new=1" if done.created else "?again=1"
    return RedirectResponse(f"/t/{done.registration.token}{suffix}", status_code=303)


@router.get("/t/{token}", dependencies=[access.PUBLIC_ROUTE])
def ticket_page(request: Request, token: str, db: Session = Depends(get_session)) -> Any:
    return _ticket(request, db, token)


def _ticket(request: Request, db: Session, token: str, claim_error: str | None = None, status: int = 200) -> Any:
    view = services.ticket_view(db, token)
    if view is None:
        raise HTTPException(404)
    event = view.event
    course_ids = set(view.course_ids)
    courses_shown = [c for c in courses.catalog(request, db).courses if c.id in course_ids] if course_ids else []
    return render(request, "events/ticket.html", {
        "registration": view.registration, "event": event,
        "place": services.place_label(event, view.village_name),
        "qr": qr_svg(ticket_url(request, view.registration.token)), "kinds": KINDS,
        "courses": courses_shown,
        "new": request.query_params.get("new") == "1", "again": request.query_params.get("again") == "1",
        "claimable": view.claimable, "claim_error": claim_error,
    }, status_code=status, headers={"Cache-Control": "private, no-store", "X-Robots-Tag": "noindex"})


@router.post("/t/{token}/claim", dependencies=[access.PUBLIC_ROUTE])
def ticket_claim(request: Request, token: str, db: Session = Depends(get_session)) -> Any:
    """Set a password for the account the registration made: the ticket is the proof."""
    try:
        link = services.claim_account(context_of(request), ticket_token=token)
    except NotFound:
        raise
    except ServiceError as exc:
        return _ticket(request, db, token, claim_error=exc.message, status=exc.status)
    return RedirectResponse(f"/password/{link}", status_code=303,
                            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
