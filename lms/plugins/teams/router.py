"""Pages of the teams plugin: teams, residents, assisted enrolment and learning, login cards, import."""

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlmodel import Session

from lms import security as access
from lms.core import services as core
from lms.core.models import Place, User
from lms.db import get_session, write_session
from lms.events import emit
from lms.forms import checkbox, read_form
from lms.plugins.certificates import services as certificates
from lms.plugins.courses import services as courses
from lms.plugins.courses.router import catalog
from lms.plugins.quiz import services as quizzes
from lms.plugins.teams import services
from lms.plugins.teams.models import AssistedAttempt, ImportBatch
from lms.qr import qr_svg
from lms.templating import render

router = APIRouter()


def _team(db: Session, user: User, team_id: int) -> Any:
    team = services.team_for(db, user, team_id)
    if team is None:
        raise HTTPException(404)
    return team


def _managing(user: User, team: Any) -> bool:
    return user.role == "admin" or (user.role == "staff" and user.commune_id == team.commune_id)


def _resident(db: Session, team: Any, user_id: int) -> User:
    person = services.resident_in_team(db, team, user_id)
    if person is None:
        raise HTTPException(404)
    return person


def _see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# --- Teams ------------------------------------------------------------------------------


def _commune_villages(db: Session, commune_id: int | None) -> list[Place]:
    return list(db.exec(select(Place).where(Place.parent_id == commune_id, Place.kind == "village",
                                            Place.active.is_(True)).order_by(Place.name)).scalars().all())


@router.get("/teams")
def teams_home(request: Request, user: User = Depends(access.team),
               db: Session = Depends(get_session)) -> Any:
    return render(request, "teams/list.html", {
        "teams": services.teams_visible_to(db, user), "villages": _commune_villages(db, user.commune_id),
        "values": {}, "errors": {}})


@router.post("/teams")
async def team_create(request: Request, user: User = Depends(access.staff),
                      db: Session = Depends(get_session)) -> Any:
    form = await request.form()
    commune = db.get(Place, user.commune_id) if user.commune_id else None
    if commune is None:
        raise HTTPException(404)
    name = str(form.get("name", ""))[:200]
    try:
        team = services.save_team(db, commune=commune, name=name,
                                  village_ids_raw=[str(v) for v in form.getlist("villages")])
        db.commit()
    except services.FormProblems as exc:
        db.rollback()
        return render(request, "teams/list.html", {
            "teams": services.teams_visible_to(db, user), "villages": _commune_villages(db, user.commune_id),
            "values": {"name": name, "villages": [str(v) for v in form.getlist("villages")]},
            "errors": exc.errors}, status_code=422)
    return _see(f"/teams/{team.id}?saved=1")


def _team_page(request: Request, db: Session, user: User, team: Any, *, errors: dict | None = None,
               values: dict | None = None, status: int = 200) -> Any:
    return render(request, "teams/team.html", {
        "team": team, "villages": services.villages_of(db, team.id),
        "all_villages": _commune_villages(db, team.commune_id), "members": services.members_of(db, team.id),
        "figures": services.figures(db, team=team), "managing": _managing(user, team),
        "errors": errors or {}, "values": values or {}, "saved": request.query_params.get("saved")},
        status_code=status)


@router.get("/teams/{team_id}")
def team_page(request: Request, team_id: int, user: User = Depends(access.team),
              db: Session = Depends(get_session)) -> Any:
    return _team_page(request, db, user, _team(db, user, team_id))


@router.post("/teams/{team_id}")
async def team_update(request: Request, team_id: int, user: User = Depends(access.staff),
                      db: Session = Depends(get_session)) -> Any:
    team = _team(db, user, team_id)
    form = await request.form()
    commune = db.get(Place, team.commune_id)
    try:
        services.save_team(db, commune=commune, name=str(form.get("name", ""))[:200], team=team,
                           village_ids_raw=[str(v) for v in form.getlist("villages")])
        db.commit()
    except services.FormProblems as exc:
        db.rollback()
        return _team_page(request, db, user, team, errors=exc.errors, status=422)
    return _see(f"/teams/{team_id}?saved=1")


@router.post("/teams/{team_id}/members")
async def member_add(request: Request, team_id: int, user: User = Depends(access.staff),
                     db: Session = Depends(get_session)) -> Any:
    team = _team(db, user, team_id)
    values = await read_form(request)
    try:
        services.add_member(db, team=team, actor=user, phone_raw=values.get("phone", ""))
        db.commit()
    except services.FormProblems as exc:
        db.rollback()
        return _team_page(request, db, user, team, errors=exc.errors, values=values, status=422)
    except core.ServiceError as exc:
        db.rollback()
        return _team_page(request, db, user, team, errors={"phone": exc.message}, values=values, status=422)
    return _see(f"/teams/{team_id}?saved=member")


@router.post("/teams/{team_id}/members/{member_id}/remove")
def member_remove(team_id: int, member_id: int, user: User = Depends(access.staff),
                  db: Session = Depends(get_session)) -> Any:
    team = _team(db, user, team_id)
    services.remove_member(db, team=team, user_id=member_id)
    db.commit()
    return _see(f"/teams/{team_id}?saved=member")


# --- Residents ---------------------------------------------------------------------------


@router.get("/teams/{team_id}/residents")
def residents(request: Request, team_id: int, user: User = Depends(access.team),
              db: Session = Depends(get_session)) -> Any:
    team = _team(db, user, team_id)
    status = request.query_params.get("status", "")
    sort = request.query_params.get("sort", "name")
    rows = services.residents(db, team=team, status=status, sort=sort)
    return render(request, "teams/residents.html", {
        "team": team, "rows": rows, "status": status, "sort": sort, "labels": services.STATUS_LABELS,
        "audiences": core.AUDIENCES}, block="results")


@router.get("/teams/{team_id}/residents.csv")
def residents_csv(request: Request, team_id: int, user: User = Depends(access.team),
                  db: Session = Depends(get_session)) -> Any:
    team = _team(db, user, team_id)
    rows = services.residents(db, team=team, status=request.query_params.get("status", ""))
    return Response(services.residents_csv(rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="nguoi-dan-to-{team.id}.csv"'})


def _new_page(request: Request, db: Session, team: Any, values: dict, errors: dict,
              duplicates: list | None = None, status: int = 200, phone_taken: bool = False) -> Any:
    return render(request, "teams/resident_new.html", {
        "team": team, "values": values, "errors": errors, "villages": services.villages_of(db, team.id),
        "audiences": core.AUDIENCES, "duplicates": duplicates or [], "phone_taken": phone_taken,
        "consent_text": core.CONSENT_TEXTS[core.CURRENT_CONSENT]}, status_code=status)


@router.get("/teams/{team_id}/residents/new")
def resident_new(request: Request, team_id: int, user: User = Depends(access.team),
                 db: Session = Depends(get_session)) -> Any:
    return _new_page(request, db, _team(db, user, team_id), {}, {})


@router.post("/teams/{team_id}/residents/new")
async def resident_create(request: Request, team_id: int, user: User = Depends(access.team),
                          db: Session = Depends(get_session)) -> Any:
    team = _team(db, user, team_id)
    values = await read_form(request)
    data = services.ResidentInput(
        full_name=values.get("full_name", ""), phone=values.get("phone", ""),
        village_id=values.get("village_id", ""), audience=values.get("audience", ""),
        birth_year=values.get("birth_year", ""), consent=checkbox(values, "consent"))
    try:
        checked = services.check_resident(db, team, data)
    except services.FormProblems as exc:
        return _new_page(request, db, team, values, exc.errors, status=422)
    duplicates = services.possible_duplicates(db, name=checked.name, phone=checked.phone,
                                              village_id=checked.village.id, birth_year=checked.birth_year)
    phone_taken = any(d.phone and d.phone == checked.phone for d in duplicates)
    if duplicates and (phone_taken or values.get("confirm_new") != "1"):
        visible = set(services.village_ids(db, team.id))
        shown = [(d, d.village_id in visible) for d in duplicates]
        return _new_page(request, db, team, values, {}, duplicates=shown, status=409,
                         phone_taken=phone_taken)
    person = services.enrol_resident(db, team=team, member=user, checked=checked)
    db.commit()
    return _see(f"/teams/{team_id}/residents/{person.id}?new=1")


def _resident_context(request: Request, db: Session, user: User, team: Any, person: User) -> dict[str, Any]:
    cat = catalog(request, db)
    done = courses.done_lessons(db, user_id=person.id)
    enrolled = {e.course_id: e for e in courses.enrolments(db, user_id=person.id)}
    course_rows = []
    for course in cat.courses:
        if course.id in enrolled:
            course_rows.append((course, done.get(course.id, set()), enrolled[course.id],
                                courses.progress_of(course, done.get(course.id, set()))))
    attempts = quizzes.attempts_of_learner(db, user_id=person.id)
    titles = {c.id: c.title for c in cat.courses}
    return {"team": team, "person": person, "village": db.get(Place, person.village_id),
            "course_rows": course_rows, "courses": [c for c in cat.courses if c.id not in enrolled],
            "attempts": [(a, titles.get(a.course_id, "")) for a in attempts],
            "certificates": [(c, certificates.display_code(c.code))
                             for c in certificates.of_learner(db, user_id=person.id)],
            "card": services.active_card(db, person.id), "audiences": core.AUDIENCES,
            "new": request.query_params.get("new") == "1", "saved": request.query_params.get("saved")}


@router.get("/teams/{team_id}/residents/{user_id}")
def resident_page(request: Request, team_id: int, user_id: int, user: User = Depends(access.team),
                  db: Session = Depends(get_session)) -> Any:
    team = _team(db, user, team_id)
    person = _resident(db, team, user_id)
    return render(request, "teams/resident.html", _resident_context(request, db, user, team, person))


@router.post("/teams/{team_id}/residents/{user_id}/enrol")
async def resident_enrol(request: Request, team_id: int, user_id: int, user: User = Depends(access.team),
                         db: Session = Depends(get_session)) -> Any:
    team = _team(db, user, team_id)
    person = _resident(db, team, user_id)
    values = await read_form(request)
    course = next((c for c in catalog(request, db).courses if str(c.id) == values.get("course_id")), None)
    if course is None:
        raise HTTPException(404)
    courses.enrol(db, user_id=person.id, course_id=course.id, by_user_id=user.id)
    db.commit()
    return _see(f"/teams/{team_id}/residents/{user_id}?saved=enrolled")


@router.post("/teams/{team_id}/residents/{user_id}/lessons")
async def resident_lessons(request: Request, team_id: int, user_id: int, user: User = Depends(access.team),
                           db: Session = Depends(get_session)) -> Any:
    team = _team(db, user, team_id)
    person = _resident(db, team, user_id)
    form = await request.form()
    course = next((c for c in catalog(request, db).courses if str(c.id) == form.get("course_id")), None)
    if course is None:
        raise HTTPException(404)
    lesson_ids = [int(v) for v in form.getlist("lesson_ids") if isinstance(v, str) and v.isdigit()]
    pm = request.app.state.pm
    events = services.confirm_lessons(db, pm=pm, member=user, resident=person, course=course,
                                      lesson_ids=lesson_ids)
    db.commit()
    for event in events:
        emit(request.app.state, event)
    return _see(f"/teams/{team_id}/residents/{user_id}?saved=lessons")


# --- Login cards -----------------------------------------------------------------------


@router.post("/teams/{team_id}/residents/{user_id}/card")
def card_issue(request: Request, team_id: int, user_id: int, user: User = Depends(access.team),
               db: Session = Depends(get_session)) -> Any:
    team = _team(db, user, team_id)
    person = _resident(db, team, user_id)
    try:
        token = services.issue_card(db, resident=person, member=user)
        db.commit()
    except services.TeamError as exc:
        db.rollback()
        raise HTTPException(409, detail=exc.message) from exc
    url = f"{request.app.state.settings.base_url.rstrip('/')}/k/{token}"
    return render(request, "teams/card.html", {"team": team, "person": person, "qr": qr_svg(url),
                                               "village": db.get(Place, person.village_id)},
                  headers={"Cache-Control": "no-store"})


@router.post("/teams/{team_id}/residents/{user_id}/card/revoke")
def card_revoke(team_id: int, user_id: int, user: User = Depends(access.team),
                db: Session = Depends(get_session)) -> Any:
    team = _team(db, user, team_id)
    person = _resident(db, team, user_id)
    services.revoke_cards(db, resident_id=person.id)
    db.commit()
    return _see(f"/teams/{team_id}/residents/{user_id}?saved=card")


@router.get("/k/{token}", dependencies=[access.PUBLIC_ROUTE])
def card_sign_in(request: Request, token: str) -> Any:
    settings = request.app.state.settings
    with write_session(request.app.state.engine) as db:
        person = services.card_user(db, token)
        if person is None:
            session_token = None
        else:
            if request.state.session_token:
                core.end_session(db, token=request.state.session_token)
            session_token = core.start_session(db, user=person, settings=settings)
    if session_token is None:
        return render(request, "teams/card_invalid.html", {}, status_code=404)
    response = _see("/my/courses")
    access.set_session_cookie(response, settings, session_token)
    return response


# --- Quiz taken with the member -----------------------------------------------------------


def _quiz_course(request: Request, db: Session, slug: str) -> tuple[Any, dict]:
    course = catalog(request, db).by_slug.get(slug)
    quiz = quizzes.quiz_of(db, course) if course else None
    if course is None or not quiz:
        raise HTTPException(404)
    return course, quiz


@router.post("/teams/{team_id}/residents/{user_id}/quiz/{slug}")
def assisted_quiz_start(request: Request, team_id: int, user_id: int, slug: str,
                        user: User = Depends(access.team), db: Session = Depends(get_session)) -> Any:
    team = _team(db, user, team_id)
    person = _resident(db, team, user_id)
    course, quiz = _quiz_course(request, db, slug)
    try:
        attempt = quizzes.start_attempt(db, pm=request.app.state.pm, user_id=person.id, course=course,
                                        quiz=quiz)
        db.merge(AssistedAttempt(attempt_id=attempt.id, member_id=user.id))
        db.commit()
    except quizzes.QuizError as exc:
        db.rollback()
        raise HTTPException(429, detail=exc.message) from exc
    return _see(f"/teams/{team_id}/residents/{user_id}/quiz/{slug}/{attempt.id}")


def _assisted_attempt(db: Session, person: User, course: Any, attempt_id: int) -> Any:
    attempt = quizzes.owned_attempt(db, attempt_id=attempt_id, user_id=person.id, course_id=course.id)
    if attempt is None:
        raise HTTPException(404)
    return attempt


def _assisted_page(request: Request, team: Any, person: User, course: Any, attempt: Any,
                   error: str | None = None, status: int = 200) -> Any:
    types = quizzes.question_types(request.app.state.pm)
    context: dict[str, Any] = {"team": team, "person": person, "course": course, "attempt": attempt,
                               "types": types, "error": error, "errors": {}}
    if attempt.submitted_at is not None:
        context["rows"] = quizzes.explain(types, attempt)
    return render(request, "teams/quiz.html", context, status_code=status)


@router.get("/teams/{team_id}/residents/{user_id}/quiz/{slug}/{attempt_id}")
def assisted_quiz(request: Request, team_id: int, user_id: int, slug: str, attempt_id: int,
                  user: User = Depends(access.team), db: Session = Depends(get_session)) -> Any:
    team = _team(db, user, team_id)
    person = _resident(db, team, user_id)
    course, _ = _quiz_course(request, db, slug)
    return _assisted_page(request, team, person, course, _assisted_attempt(db, person, course, attempt_id))


@router.post("/teams/{team_id}/residents/{user_id}/quiz/{slug}/{attempt_id}")
async def assisted_quiz_submit(request: Request, team_id: int, user_id: int, slug: str, attempt_id: int,
                               user: User = Depends(access.team), db: Session = Depends(get_session)) -> Any:
    team = _team(db, user, team_id)
    person = _resident(db, team, user_id)
    course, _ = _quiz_course(request, db, slug)
    attempt = _assisted_attempt(db, person, course, attempt_id)
    form = await request.form()
    values: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str) and key not in ("csrf_token", "action"):
            values.setdefault(key, []).append(value[:200])
    types = quizzes.question_types(request.app.state.pm)
    try:
        events = quizzes.submit(db, types=types, attempt=attempt, form=values)
        db.commit()
    except quizzes.FormProblems:
        db.rollback()
        db.refresh(attempt)
        return _assisted_page(request, team, person, course, attempt,
                              "Có câu trả lời không hợp lệ; chưa có gì được lưu.", 422)
    except quizzes.QuizError as exc:
        if exc.code == "unanswered":
            db.commit()  # the answers given so far are kept
        else:
            db.rollback()
        db.refresh(attempt)
        return _assisted_page(request, team, person, course, attempt, exc.message, 422)
    for event in events:
        emit(request.app.state, event)
    return _see(f"/teams/{team_id}/residents/{user_id}/quiz/{slug}/{attempt_id}")


# --- Bulk import -------------------------------------------------------------------------------


@router.get("/teams/{team_id}/import")
def import_form(request: Request, team_id: int, user: User = Depends(access.team),
                db: Session = Depends(get_session)) -> Any:
    team = _team(db, user, team_id)
    return render(request, "teams/import.html", {"team": team, "error": None,
                                                 "headers": services.IMPORT_HEADERS})


@router.get("/teams/{team_id}/import/template.{kind}")
def import_template(team_id: int, kind: str, user: User = Depends(access.team),
                    db: Session = Depends(get_session)) -> Any:
    _team(db, user, team_id)
    if kind == "csv":
        return Response(services.template_csv(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="mau-danh-sach.csv"'})
    if kind == "xlsx":
        return Response(services.template_xlsx(),
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": 'attachment; filename="mau-danh-sach.xlsx"'})
    raise HTTPException(404)


@router.post("/teams/{team_id}/import")
async def import_preview(request: Request, team_id: int, user: User = Depends(access.team),
                         db: Session = Depends(get_session)) -> Any:
    team = _team(db, user, team_id)
    form = await request.form()
    upload = form.get("file")
    if upload is None or isinstance(upload, str) or not upload.filename:
        return render(request, "teams/import.html", {"team": team, "headers": services.IMPORT_HEADERS,
                                                     "error": "Vui lòng chọn tệp CSV hoặc Excel."},
                      status_code=422)
    data = await upload.read()
    try:
        rows = services.preview(db, team=team, table=services.read_table(upload.filename, data))
    except services.TeamError as exc:
        return render(request, "teams/import.html", {"team": team, "headers": services.IMPORT_HEADERS,
                                                     "error": exc.message}, status_code=422)
    batch = services.save_batch(db, team=team, member=user, rows=rows)
    db.commit()
    return _see(f"/teams/{team_id}/import/{batch.id}")


def _batch(db: Session, team: Any, batch_id: int) -> ImportBatch:
    batch = db.get(ImportBatch, batch_id)
    if batch is None or batch.team_id != team.id:
        raise HTTPException(404)
    return batch


@router.get("/teams/{team_id}/import/{batch_id}")
def import_batch(request: Request, team_id: int, batch_id: int, user: User = Depends(access.team),
                 db: Session = Depends(get_session)) -> Any:
    team = _team(db, user, team_id)
    batch = _batch(db, team, batch_id)
    counts = {s: sum(1 for r in batch.rows if r["status"] == s) for s in ("create", "duplicate", "error")}
    return render(request, "teams/import_preview.html", {
        "team": team, "batch": batch, "counts": counts, "error": None,
        "done": request.query_params.get("done")})


@router.post("/teams/{team_id}/import/{batch_id}")
async def import_confirm(request: Request, team_id: int, batch_id: int, user: User = Depends(access.team),
                         db: Session = Depends(get_session)) -> Any:
    team = _team(db, user, team_id)
    batch = _batch(db, team, batch_id)
    values = await read_form(request)
    counts = {s: sum(1 for r in batch.rows if r["status"] == s) for s in ("create", "duplicate", "error")}
    error = None
    if not checkbox(values, "consent"):
        error = "Cần xác nhận từng người trong danh sách đã đồng ý cho lưu thông tin."
    else:
        try:
            created = services.confirm_batch(db, team=team, member=user, batch=batch)
            db.commit()
            return _see(f"/teams/{team_id}/import/{batch_id}?done={created}")
        except services.TeamError as exc:
            db.rollback()
            error = exc.message
    return render(request, "teams/import_preview.html", {"team": team, "batch": batch, "counts": counts,
                                                         "error": error, "done": None}, status_code=422)
