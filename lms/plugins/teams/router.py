"""Pages of the teams plugin: teams, residents, assisted enrolment and learning, login cards, import.

Every change is one call of a service in lms.plugins.teams.services; the pages parse and render."""

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlmodel import Session

from lms import security as access
from lms.context import context_of
from lms.core import consent_services, data_requests
from lms.core import services as core
from lms.core.models import Place, User
from lms.core.staff_accounts_services import link_record
from lms.db import get_session
from lms.errors import FormErrors, NotFound, ServiceError
from lms.forms import FormFields, FormLists, FormValues, ObjectId, checkbox
from lms.plugins.courses import services as courses
from lms.plugins.teams import services
from lms.qr import qr_svg
from lms.templating import render

router = APIRouter()


def _team(db: Session, user: User, team_id: int) -> Any:
    team = services.team_for(db, user, team_id)
    if team is None:
        raise NotFound()
    return team


def _resident(db: Session, team: Any, user_id: int) -> User:
    person = services.resident_in_team(db, team, user_id)
    if person is None:
        raise NotFound()
    return person


def _course(request: Request, db: Session, course_id: str | None, helper: User) -> courses.CourseOutline:
    cat = courses.catalog(request, db)
    offered = cat.courses if helper.role == "admin" else cat.for_commune(helper.commune_id)
    course = next((c for c in offered if str(c.id) == course_id), None)
    if course is None:
        raise NotFound()
    return course


def _first(lists: dict[str, list[str]], name: str) -> str:
    return (lists.get(name) or [""])[0]


def _see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# --- Teams ------------------------------------------------------------------------------


def _commune_villages(db: Session, commune_id: int | None) -> list[Place]:
    return list(db.exec(select(Place).where(Place.parent_id == commune_id, Place.kind == "village",
                                            Place.active.is_(True)).order_by(Place.name)).scalars().all())


def _list_page(request: Request, db: Session, user: User, *, values: dict | None = None,
               errors: dict | None = None, status: int = 200) -> Any:
    # An admin picks the commune: every commune with its villages, each in its own group.
    by_commune = core.village_choices(db) if user.role == "admin" else []
    return render(request, "teams/list.html", {
        "teams": services.teams_visible_to(db, user), "villages": _commune_villages(db, user.commune_id),
        "by_commune": by_commune, "values": values or {}, "errors": errors or {}}, status_code=status)


@router.get("/teams")
def teams_home(request: Request, user: User = Depends(access.team),
               db: Session = Depends(get_session)) -> Any:
    return _list_page(request, db, user)


@router.post("/teams")
def team_create(request: Request, lists: FormLists, user: User = Depends(access.staff),
                db: Session = Depends(get_session)) -> Any:
    name = _first(lists, "name")[:200]
    villages = lists.get("villages", [])
    commune_id = _first(lists, "commune_id")[:12]
    try:
        team = services.create_team(context_of(request), actor=user, name=name, village_ids_raw=villages,
                                    commune_id_raw=commune_id)
    except FormErrors as exc:
        return _list_page(request, db, user, values={"name": name, "villages": villages, "commune_id": commune_id},
                          errors=exc.errors, status=422)
    return _see(f"/teams/{team.id}?saved=1")


def _team_page(request: Request, db: Session, user: User, team: Any, *, errors: dict | None = None,
               values: dict | None = None, status: int = 200) -> Any:
    return render(request, "teams/team.html", {
        "team": team, "villages": services.villages_of(db, team.id),
        "all_villages": _commune_villages(db, team.commune_id), "members": services.members_of(db, team.id),
        "figures": services.figures(db, pm=request.app.state.pm, team=team),
        "managing": services.managing(user, team), "errors": errors or {}, "values": values or {},
        "saved": request.query_params.get("saved")}, status_code=status)


@router.get("/teams/{team_id}")
def team_page(request: Request, team_id: ObjectId, user: User = Depends(access.team),
              db: Session = Depends(get_session)) -> Any:
    return _team_page(request, db, user, _team(db, user, team_id))


@router.post("/teams/{team_id}")
def team_update(request: Request, team_id: ObjectId, lists: FormLists, user: User = Depends(access.staff),
                db: Session = Depends(get_session)) -> Any:
    team = _team(db, user, team_id)
    try:
        services.update_team(context_of(request), actor=user, team_id=team.id, name=_first(lists, "name")[:200],
                             village_ids_raw=lists.get("villages", []))
    except FormErrors as exc:
        return _team_page(request, db, user, team, errors=exc.errors, status=422)
    return _see(f"/teams/{team_id}?saved=1")


@router.post("/teams/{team_id}/members")
def member_add(request: Request, team_id: ObjectId, values: FormValues, user: User = Depends(access.staff),
               db: Session = Depends(get_session)) -> Any:
    team = _team(db, user, team_id)
    try:
        services.add_team_member(context_of(request), actor=user, team_id=team.id,
                                 phone_raw=values.get("phone", ""))
    except FormErrors as exc:
        return _team_page(request, db, user, team, errors=exc.errors, values=values, status=422)
    except ServiceError as exc:
        if exc.status in (403, 404):
            raise
        # set_role's refusals (a role staff may not give) concern the person named by the phone.
        return _team_page(request, db, user, team, errors={"phone": exc.message}, values=values, status=422)
    return _see(f"/teams/{team_id}?saved=member")


@router.post("/teams/{team_id}/members/{member_id}/remove")
def member_remove(request: Request, team_id: ObjectId, member_id: ObjectId, user: User = Depends(access.staff)) -> Any:
    services.remove_team_member(context_of(request), actor=user, team_id=team_id, user_id=member_id)
    return _see(f"/teams/{team_id}?saved=member")


# --- Residents ---------------------------------------------------------------------------


@router.get("/teams/{team_id}/residents")
def residents(request: Request, team_id: ObjectId, user: User = Depends(access.team),
              db: Session = Depends(get_session)) -> Any:
    team = _team(db, user, team_id)
    status = request.query_params.get("status", "")
    sort = request.query_params.get("sort", "name")
    rows = services.residents(db, pm=request.app.state.pm, team=team, status=status, sort=sort)
    return render(request, "teams/residents.html", {
        "team": team, "rows": rows, "status": status, "sort": sort, "labels": services.STATUS_LABELS,
        "filters": services.status_labels(request.app.state.pm),
        "audiences": core.AUDIENCES}, block="results")


@router.get("/teams/{team_id}/residents.csv")
def residents_csv(request: Request, team_id: ObjectId, user: User = Depends(access.team),
                  db: Session = Depends(get_session)) -> Any:
    team = _team(db, user, team_id)
    rows = services.residents(db, pm=request.app.state.pm, team=team, status=request.query_params.get("status", ""))
    return Response(services.residents_csv(rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="nguoi-dan-to-{team.id}.csv"'})


def _new_page(request: Request, db: Session, team: Any, values: dict, errors: dict,
              duplicates: list | None = None, status: int = 200, phone_taken: bool = False) -> Any:
    return render(request, "teams/resident_new.html", {
        "team": team, "values": values, "errors": errors, "villages": services.villages_of(db, team.id),
        "audiences": core.AUDIENCES, "duplicates": duplicates or [], "phone_taken": phone_taken,
        "consent_text": core.consent_text(request.app.state.pm, "learning"),
        "joining": core.joining_purposes(request.app.state.pm)}, status_code=status)


@router.get("/teams/{team_id}/residents/new")
def resident_new(request: Request, team_id: ObjectId, user: User = Depends(access.team),
                 db: Session = Depends(get_session)) -> Any:
    return _new_page(request, db, _team(db, user, team_id), {}, {})


@router.post("/teams/{team_id}/residents/new")
def resident_create(request: Request, team_id: ObjectId, values: FormValues, user: User = Depends(access.team),
                    db: Session = Depends(get_session)) -> Any:
    team = _team(db, user, team_id)
    data = services.ResidentInput(
        full_name=values.get("full_name", ""), phone=values.get("phone", ""),
        village_id=values.get("village_id", ""), audience=values.get("audience", ""),
        birth_year=values.get("birth_year", ""), consent=checkbox(values, "consent"),
        joining=core.joining_from_form(request.app.state.pm, values))
    try:
        outcome = services.register_resident(context_of(request), member=user, team_id=team.id, data=data,
                                             confirm_new=values.get("confirm_new") == "1")
    except FormErrors as exc:
        return _new_page(request, db, team, values, exc.errors, status=422)
    if outcome.person is None:
        return _new_page(request, db, team, values, {}, duplicates=outcome.duplicates, status=409,
                         phone_taken=outcome.phone_taken)
    return _see(f"/teams/{team_id}/residents/{outcome.person.id}?new=1")


def _resident_context(request: Request, db: Session, user: User, team: Any, person: User) -> dict[str, Any]:
    cat = courses.catalog(request, db)
    done = courses.done_lessons(db, user_id=person.id)
    enrolled = {e.course_id: e for e in courses.enrolments(db, user_id=person.id)}
    course_rows = []
    for course in cat.courses:
        if course.id in enrolled:
            course_rows.append((course, done.get(course.id, set()), enrolled[course.id],
                                courses.progress_of(course, done.get(course.id, set()))))
    return {"team": team, "person": person, "village": db.get(Place, person.village_id),
            "course_rows": course_rows,
            "courses": [c for c in cat.for_commune(person.commune_id) if c.id not in enrolled],
            "sections": services.resident_sections(request.app.state.pm, request=request, db=db, person=person,
                                                   helper=user),
            "card": services.active_card(db, person.id), "audiences": core.AUDIENCES,
            "password_links": link_record(db, user_id=person.id, limit=5),
            "new": request.query_params.get("new") == "1", "saved": request.query_params.get("saved"),
            "choices": consent_services.choices(db, request.app.state.pm, person.id),
            "data_kinds": data_requests.KINDS}


@router.get("/teams/{team_id}/residents/{user_id}")
def resident_page(request: Request, team_id: ObjectId, user_id: ObjectId, user: User = Depends(access.team),
                  db: Session = Depends(get_session)) -> Any:
    team = _team(db, user, team_id)
    person = _resident(db, team, user_id)
    return render(request, "teams/resident.html", _resident_context(request, db, user, team, person))


@router.post("/teams/{team_id}/residents/{user_id}/consents/{purpose}")
def resident_consent(request: Request, team_id: ObjectId, user_id: ObjectId, purpose: str, values: FormValues,
                     user: User = Depends(access.team), db: Session = Depends(get_session)) -> Any:
    """The resident told the member they withdraw (or give) a purpose: recorded as the member's, for them."""
    person = _resident(db, _team(db, user, team_id), user_id)
    declared = consent_services.purposes(request.app.state.pm).get(purpose)
    if declared is None or declared.required:
        raise NotFound()
    consent_services.change(context_of(request), person_id=person.id, purpose=declared.key,
                            granted=values.get("granted") == "1", actor=user)
    return _see(f"/teams/{team_id}/residents/{user_id}?saved=consent#du-lieu")


@router.post("/teams/{team_id}/residents/{user_id}/data-request")
def resident_data_request(request: Request, team_id: ObjectId, user_id: ObjectId, values: FormValues,
                          user: User = Depends(access.team), db: Session = Depends(get_session)) -> Any:
    """A resident without a phone or an account of their own asks through the member: erase,
    restrict or object. Staff of the commune carry it out, on the legal clocks."""
    person = _resident(db, _team(db, user, team_id), user_id)
    if values.get("confirm") != "1":
        return _see(f"/teams/{team_id}/residents/{user_id}?saved=data_confirm#du-lieu")
    try:
        data_requests.file(context_of(request), person_id=person.id, filed_by=user, kind=values.get("kind", ""),
                           purpose=values.get("purpose") or None)
    except FormErrors:
        return _see(f"/teams/{team_id}/residents/{user_id}?saved=data_purpose#du-lieu")
    return _see(f"/teams/{team_id}/residents/{user_id}?saved=data_filed#du-lieu")


@router.post("/teams/{team_id}/residents/{user_id}/enrol")
def resident_enrol(request: Request, team_id: ObjectId, user_id: ObjectId, values: FormValues,
                   user: User = Depends(access.team), db: Session = Depends(get_session)) -> Any:
    course = _course(request, db, values.get("course_id"), user)
    services.enrol_in_course(context_of(request), member=user, team_id=team_id, resident_id=user_id, course=course)
    return _see(f"/teams/{team_id}/residents/{user_id}?saved=enrolled")


@router.post("/teams/{team_id}/residents/{user_id}/lessons")
def resident_lessons(request: Request, team_id: ObjectId, user_id: ObjectId, lists: FormLists,
                     user: User = Depends(access.team), db: Session = Depends(get_session)) -> Any:
    course = _course(request, db, _first(lists, "course_id"), user)
    lesson_ids = [int(v) for v in lists.get("lesson_ids", []) if v.isascii() and v.isdigit()]
    services.confirm_lessons(context_of(request), member=user, team_id=team_id, resident_id=user_id,
                             course=course, lesson_ids=lesson_ids)
    return _see(f"/teams/{team_id}/residents/{user_id}?saved=lessons")


# --- Login cards -----------------------------------------------------------------------


def _card_page(request: Request, card: services.IssuedCard) -> Any:
    base = request.app.state.settings.base_url.rstrip("/")
    qr = qr_svg(f"{base}/k/{card.token}") if card.token else None
    reset_qr = qr_svg(f"{base}/password/{card.reset_token}") if card.reset_token else None
    return render(request, "teams/card.html", {"team": card.team, "person": card.person, "qr": qr,
                                               "reset_qr": reset_qr, "reset_expires_at": card.reset_expires_at,
                                               "village": card.village},
                  headers={"Cache-Control": "no-store", "X-Robots-Tag": "noindex"})


@router.post("/teams/{team_id}/residents/{user_id}/card")
def card_issue(request: Request, team_id: ObjectId, user_id: ObjectId, values: FormValues,
               user: User = Depends(access.team)) -> Any:
    card = services.issue_card(context_of(request), member=user, team_id=team_id, resident_id=user_id,
                               with_reset=checkbox(values, "with_reset"))
    return _card_page(request, card)


@router.post("/teams/{team_id}/residents/{user_id}/reset")
def reset_issue(request: Request, team_id: ObjectId, user_id: ObjectId, user: User = Depends(access.team)) -> Any:
    # Staff, admins and people of other villages are refused by the service (403/404), nothing written.
    card = services.issue_reset(context_of(request), member=user, team_id=team_id, resident_id=user_id)
    return _card_page(request, card)


@router.post("/teams/{team_id}/residents/{user_id}/card/revoke")
def card_revoke(request: Request, team_id: ObjectId, user_id: ObjectId, user: User = Depends(access.team)) -> Any:
    services.revoke_card(context_of(request), member=user, team_id=team_id, resident_id=user_id)
    return _see(f"/teams/{team_id}/residents/{user_id}?saved=card")


# A GET, as the QR on the printed card is opened by a phone's camera; it writes through a service.
@router.get("/k/{token}", dependencies=[access.PUBLIC_ROUTE])
def card_sign_in(request: Request, token: str) -> Any:
    ctx = context_of(request)
    session_token = services.sign_in_with_card(ctx, token=token, current_session=request.state.session_token)
    if session_token is None:
        return render(request, "teams/card_invalid.html", {}, status_code=404)
    response = _see("/my/courses")
    access.set_session_cookie(response, ctx.settings, session_token)
    return response


# --- Bulk import -------------------------------------------------------------------------------


def _import_page(request: Request, team: Any, error: str | None = None, status: int = 200) -> Any:
    return render(request, "teams/import.html", {"team": team, "headers": services.IMPORT_HEADERS,
                                                 "error": error}, status_code=status)


@router.get("/teams/{team_id}/import")
def import_form(request: Request, team_id: ObjectId, user: User = Depends(access.team),
                db: Session = Depends(get_session)) -> Any:
    return _import_page(request, _team(db, user, team_id))


@router.get("/teams/{team_id}/import/template.{kind}")
def import_template(team_id: ObjectId, kind: str, user: User = Depends(access.team),
                    db: Session = Depends(get_session)) -> Any:
    _team(db, user, team_id)
    if kind == "csv":
        return Response(services.template_csv(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="mau-danh-sach.csv"'})
    if kind == "xlsx":
        return Response(services.template_xlsx(),
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": 'attachment; filename="mau-danh-sach.xlsx"'})
    raise NotFound()


@router.post("/teams/{team_id}/import")
def import_preview(request: Request, team_id: ObjectId, form: FormFields, user: User = Depends(access.team),
                   db: Session = Depends(get_session)) -> Any:
    team = _team(db, user, team_id)
    upload = form.get("file")
    if upload is None or isinstance(upload, str) or not upload.filename:
        return _import_page(request, team, "Vui lòng chọn tệp CSV hoặc Excel.", 422)
    try:
        batch = services.import_preview(context_of(request), member=user, team_id=team.id,
                                        filename=upload.filename, data=upload.file.read())
    except ServiceError as exc:
        if exc.status == 404:
            raise
        return _import_page(request, team, exc.message, 422)
    return _see(f"/teams/{team_id}/import/{batch.id}")


def _preview_page(request: Request, team: Any, batch: Any, *, error: str | None = None, status: int = 200) -> Any:
    counts = {s: sum(1 for r in batch.rows if r["status"] == s) for s in ("create", "duplicate", "error")}
    return render(request, "teams/import_preview.html", {
        "team": team, "batch": batch, "counts": counts, "error": error,
        "consent_text": core.consent_text(request.app.state.pm, "learning"),
        "joining": core.joining_purposes(request.app.state.pm),
        "done": request.query_params.get("done") if error is None else None}, status_code=status)


@router.get("/teams/{team_id}/import/{batch_id}")
def import_batch(request: Request, team_id: ObjectId, batch_id: ObjectId, user: User = Depends(access.team),
                 db: Session = Depends(get_session)) -> Any:
    team = _team(db, user, team_id)
    return _preview_page(request, team, services.batch_of(db, team, batch_id))


@router.post("/teams/{team_id}/import/{batch_id}")
def import_confirm(request: Request, team_id: ObjectId, batch_id: ObjectId, values: FormValues,
                   user: User = Depends(access.team), db: Session = Depends(get_session)) -> Any:
    team = _team(db, user, team_id)
    batch = services.batch_of(db, team, batch_id)
    try:
        created = services.import_confirm(context_of(request), member=user, team_id=team.id, batch_id=batch.id,
                                          consent=checkbox(values, "consent"),
                                          joining=core.joining_from_form(request.app.state.pm, values))
    except ServiceError as exc:
        if exc.status == 404:
            raise
        return _preview_page(request, team, batch, error=exc.message, status=422)
    return _see(f"/teams/{team_id}/import/{batch_id}?done={created}")
