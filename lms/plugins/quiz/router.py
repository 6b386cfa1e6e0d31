"""Quiz pages: introduction and history, the attempt form, the result, staff figures."""

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from lms import security as access
from lms.core.models import Place, User
from lms.db import get_session
from lms.events import emit
from lms.plugins.courses import services as courses
from lms.plugins.courses.router import catalog
from lms.plugins.quiz import services
from lms.templating import render

router = APIRouter()


def _published(request: Request, db: Session, slug: str) -> tuple[courses.CourseOutline, dict]:
    """A course of the catalog that has a quiz; anything else is not found."""
    course = catalog(request, db).by_slug.get(slug)
    quiz = services.quiz_of(db, course) if course else None
    if course is None or not quiz:
        raise HTTPException(404)
    return course, quiz


async def _form(request: Request) -> dict[str, list[str]]:
    form = await request.form()
    values: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            values.setdefault(key, []).append(value[:200])
    return values


@router.get("/quiz/{slug}")
def quiz_home(request: Request, slug: str, user: User = Depends(access.signed_in),
              db: Session = Depends(get_session)) -> Any:
    course, quiz = _published(request, db, slug)
    attempts = services.attempts_of(db, user_id=user.id, course_id=course.id)
    return render(request, "quiz/home.html", {
        "course": course, "quiz": quiz, "attempts": attempts,
        "best": services.best_attempt(attempts),
        "open_attempt": next((a for a in attempts if a.submitted_at is None), None),
        "wait": services.cooldown_minutes_left(quiz, attempts),
        "error": None,
    })


@router.post("/quiz/{slug}/start")
def quiz_start(request: Request, slug: str, user: User = Depends(access.signed_in),
               db: Session = Depends(get_session)) -> Any:
    course, quiz = _published(request, db, slug)
    try:
        attempt = services.start_attempt(db, pm=request.app.state.pm, user_id=user.id,
                                         course=course, quiz=quiz)
        db.commit()
    except services.QuizError as exc:
        db.rollback()
        attempts = services.attempts_of(db, user_id=user.id, course_id=course.id)
        return render(request, "quiz/home.html", {
            "course": course, "quiz": quiz, "attempts": attempts,
            "best": services.best_attempt(attempts), "open_attempt": None,
            "wait": services.cooldown_minutes_left(quiz, attempts), "error": exc.message,
        }, status_code=429 if exc.code == "cooldown" else 422)
    return RedirectResponse(f"/quiz/{slug}/attempts/{attempt.id}", status_code=303)


def _attempt_page(request: Request, db: Session, course: courses.CourseOutline, attempt: Any,
                  *, error: str | None = None, errors: dict | None = None, saved: bool = False,
                  status: int = 200) -> Any:
    types = services.question_types(request.app.state.pm)
    context: dict[str, Any] = {"course": course, "attempt": attempt, "error": error,
                               "errors": errors or {}, "saved": saved}
    if attempt.submitted_at is not None:
        context["rows"] = services.explain(types, attempt)
        context["course_done"] = _course_completed(db, request, course)
        return render(request, "quiz/result.html", context, status_code=status)
    context["types"] = types
    return render(request, "quiz/attempt.html", context, status_code=status)


def _course_completed(db: Session, request: Request, course: courses.CourseOutline) -> bool:
    return courses.has_completed(db, user_id=request.state.user.id, course_id=course.id)


def _owned(db: Session, user: User, course: courses.CourseOutline, attempt_id: int) -> Any:
    attempt = services.owned_attempt(db, attempt_id=attempt_id, user_id=user.id, course_id=course.id)
    if attempt is None:
        raise HTTPException(404)
    return attempt


@router.get("/quiz/{slug}/attempts/{attempt_id}")
def attempt_view(request: Request, slug: str, attempt_id: int, user: User = Depends(access.signed_in),
                 db: Session = Depends(get_session)) -> Any:
    course, _ = _published(request, db, slug)
    attempt = _owned(db, user, course, attempt_id)
    return _attempt_page(request, db, course, attempt, saved=request.query_params.get("saved") == "1")


@router.post("/quiz/{slug}/attempts/{attempt_id}")
async def attempt_post(request: Request, slug: str, attempt_id: int,
                       user: User = Depends(access.signed_in),
                       db: Session = Depends(get_session)) -> Any:
    course, _ = _published(request, db, slug)
    attempt = _owned(db, user, course, attempt_id)
    form = await _form(request)
    action = (form.pop("action", ["submit"]) or ["submit"])[0]
    form.pop("csrf_token", None)
    types = services.question_types(request.app.state.pm)
    events: list[Any] = []
    try:
        if action == "save":
            services.save_answers(db, types=types, attempt=attempt, form=form)
        else:
            events = services.submit(db, types=types, attempt=attempt, form=form)
        db.commit()
    except services.FormProblems as exc:
        db.rollback()
        db.refresh(attempt)
        return _attempt_page(request, db, course, attempt, errors=exc.errors,
                             error="Có câu trả lời không hợp lệ; chưa có gì được lưu. "
                                   "Vui lòng xem lại các câu được đánh dấu.", status=422)
    except services.QuizError as exc:
        if exc.code == "unanswered":
            db.commit()  # the answers given so far are kept
        else:
            db.rollback()
        db.refresh(attempt)
        return _attempt_page(request, db, course, attempt, error=exc.message,
                             status=409 if exc.code == "finished" else 422)
    for event in events:
        emit(request.app.state, event)
    if request.headers.get("hx-request") == "true" and action == "save":
        return render(request, "quiz/saved.html", {"attempt": attempt})
    suffix = "?saved=1" if action == "save" else ""
    return RedirectResponse(f"/quiz/{slug}/attempts/{attempt_id}{suffix}", status_code=303)


@router.get("/staff/quizzes")
def staff_quizzes(request: Request, user: User = Depends(access.staff),
                  db: Session = Depends(get_session)) -> Any:
    from sqlalchemy import select

    communes = []
    commune_id = user.commune_id
    if user.role == "admin":
        communes = list(db.exec(select(Place).where(Place.kind == "commune").order_by(Place.name))
                        .scalars().all())
        requested = request.query_params.get("commune", "")
        commune_id = int(requested) if requested.isdigit() else None
    commune = db.get(Place, commune_id) if commune_id else None
    figures = services.staff_figures(db, catalog=catalog(request, db), commune_id=commune_id)
    return render(request, "quiz/staff.html", {"figures": figures, "commune": commune,
                                               "communes": communes})
