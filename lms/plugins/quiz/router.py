"""Quiz pages: introduction and history, the attempt form, the result, the quiz taken with a
helper (a team member beside the learner), staff figures."""

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from lms import security as access
from lms.context import context_of
from lms.core.models import Place, User
from lms.db import get_session
from lms.errors import FormErrors, NotFound, ServiceError
from lms.forms import MAX_ID, FormLists, ObjectId
from lms.plugins.courses import services as courses
from lms.plugins.quiz import services
from lms.templating import is_htmx, render

router = APIRouter()


def _published(request: Request, db: Session, slug: str) -> tuple[courses.CourseOutline, dict]:
    """A course of the catalog that has a quiz; anything else is not found."""
    course = courses.catalog(request, db).visible(slug, request.state.user)
    quiz = services.quiz_of(db, course) if course else None
    if course is None or not quiz:
        raise HTTPException(404)
    return course, quiz


def _home_context(db: Session, user: User, course: courses.CourseOutline, quiz: dict,
                  error: str | None = None) -> dict[str, Any]:
    attempts = services.attempts_of(db, user_id=user.id, course_id=course.id)
    return {"course": course, "quiz": quiz, "attempts": attempts, "best": services.best_attempt(attempts),
            "open_attempt": next((a for a in attempts if a.submitted_at is None), None),
            "wait": services.cooldown_minutes_left(quiz, attempts), "error": error}


@router.get("/quiz/{slug}")
def quiz_home(request: Request, slug: str, user: User = Depends(access.signed_in),
              db: Session = Depends(get_session)) -> Any:
    course, quiz = _published(request, db, slug)
    return render(request, "quiz/home.html", _home_context(db, user, course, quiz))


@router.post("/quiz/{slug}/start")
def quiz_start(request: Request, slug: str, user: User = Depends(access.signed_in),
               db: Session = Depends(get_session)) -> Any:
    course, quiz = _published(request, db, slug)
    try:
        attempt = services.start_attempt(context_of(request), user_id=user.id, course=course)
    except NotFound:
        raise
    except ServiceError as exc:
        return render(request, "quiz/home.html", _home_context(db, user, course, quiz, exc.message),
                      status_code=exc.status)
    return RedirectResponse(f"/quiz/{slug}/attempts/{attempt.id}", status_code=303)


# --- The attempt, the learner's own or taken with a helper --------------------------------


def _attempt_url(course: courses.CourseOutline, attempt_id: int, assisted: dict | None) -> str:
    if assisted is None:
        return f"/quiz/{course.slug}/attempts/{attempt_id}"
    return f"/quiz/{course.slug}/assisted/{assisted['learner'].id}/attempts/{attempt_id}"


def _attempt_page(request: Request, db: Session, course: courses.CourseOutline, attempt: Any,
                  *, assisted: dict | None = None, error: str | None = None, errors: dict | None = None,
                  saved: bool = False, status: int = 200) -> Any:
    types = services.question_types(request.app.state.pm)
    context: dict[str, Any] = {"course": course, "attempt": attempt, "error": error, "errors": errors or {},
                               "saved": saved, "assisted": assisted,
                               "attempt_url": _attempt_url(course, attempt.id, assisted)}
    if attempt.submitted_at is not None:
        context["rows"] = services.explain(types, attempt)
        context["course_done"] = courses.has_completed(db, user_id=attempt.user_id, course_id=course.id)
        return render(request, "quiz/result.html", context, status_code=status)
    context["types"] = types
    return render(request, "quiz/attempt.html", context, status_code=status)


def _owned(db: Session, learner_id: int, course: courses.CourseOutline, attempt_id: int) -> Any:
    attempt = services.owned_attempt(db, attempt_id=attempt_id, user_id=learner_id, course_id=course.id)
    if attempt is None:
        raise HTTPException(404)
    return attempt


def _answer(request: Request, db: Session, course: courses.CourseOutline, attempt_id: int,
            form: dict[str, list[str]], *, learner_id: int, helper: User | None = None,
            assisted: dict | None = None) -> Any:
    """Save or submit the posted answers, then show the attempt (or what went wrong)."""
    answers = {key: values for key, values in form.items() if key not in ("action", access.CSRF_FIELD)}
    action = (form.get("action") or ["submit"])[0]
    ctx = context_of(request)
    try:
        if action == "save":
            attempt = services.save_answers(ctx, user_id=learner_id, course_id=course.id,
                                            attempt_id=attempt_id, form=answers, helper=helper)
        else:
            attempt = services.submit(ctx, user_id=learner_id, course_id=course.id,
                                      attempt_id=attempt_id, form=answers, helper=helper)
    except NotFound:
        raise
    except ServiceError as exc:
        # Read after the unit of work: "unanswered" kept the answers given so far.
        attempt = _owned(db, learner_id, course, attempt_id)
        return _attempt_page(request, db, course, attempt, assisted=assisted, error=exc.message,
                             errors=exc.errors if isinstance(exc, FormErrors) else None, status=exc.status)
    if is_htmx(request) and action == "save":
        return render(request, "quiz/saved.html", {"attempt": attempt})
    suffix = "?saved=1" if action == "save" else ""
    return RedirectResponse(_attempt_url(course, attempt_id, assisted) + suffix, status_code=303)


@router.get("/quiz/{slug}/attempts/{attempt_id}")
def attempt_view(request: Request, slug: str, attempt_id: ObjectId, user: User = Depends(access.signed_in),
                 db: Session = Depends(get_session)) -> Any:
    course, _ = _published(request, db, slug)
    attempt = _owned(db, user.id, course, attempt_id)
    return _attempt_page(request, db, course, attempt, saved=request.query_params.get("saved") == "1")


@router.post("/quiz/{slug}/attempts/{attempt_id}")
def attempt_post(request: Request, slug: str, attempt_id: ObjectId, form: FormLists,
                 user: User = Depends(access.signed_in), db: Session = Depends(get_session)) -> Any:
    course, _ = _published(request, db, slug)
    return _answer(request, db, course, attempt_id, form, learner_id=user.id)


def _assisted(request: Request, db: Session, helper: User, learner_id: int) -> dict[str, Any]:
    """The learner and the helper's page, when a plugin says this helper may assist them."""
    back = services.assisted_page(db, pm=request.app.state.pm, helper=helper, learner_id=learner_id)
    learner = db.get(User, learner_id) if back else None
    if learner is None:
        raise HTTPException(404)
    return {"learner": learner, "back": back}


@router.post("/quiz/{slug}/assisted/{learner_id}/start")
def assisted_start(request: Request, slug: str, learner_id: ObjectId, user: User = Depends(access.team),
                   db: Session = Depends(get_session)) -> Any:
    course, _ = _published(request, db, slug)
    assisted = _assisted(request, db, user, learner_id)
    try:
        attempt = services.start_attempt(context_of(request), user_id=learner_id, course=course, helper=user)
    except NotFound:
        raise
    except ServiceError as exc:
        return render(request, "quiz/assisted_refused.html",
                      {"course": course, "assisted": assisted, "error": exc.message}, status_code=exc.status)
    return RedirectResponse(_attempt_url(course, attempt.id, assisted), status_code=303)


@router.get("/quiz/{slug}/assisted/{learner_id}/attempts/{attempt_id}")
def assisted_view(request: Request, slug: str, learner_id: ObjectId, attempt_id: ObjectId,
                  user: User = Depends(access.team), db: Session = Depends(get_session)) -> Any:
    course, _ = _published(request, db, slug)
    assisted = _assisted(request, db, user, learner_id)
    attempt = _owned(db, learner_id, course, attempt_id)
    return _attempt_page(request, db, course, attempt, assisted=assisted,
                         saved=request.query_params.get("saved") == "1")


@router.post("/quiz/{slug}/assisted/{learner_id}/attempts/{attempt_id}")
def assisted_post(request: Request, slug: str, learner_id: ObjectId, attempt_id: ObjectId, form: FormLists,
                  user: User = Depends(access.team), db: Session = Depends(get_session)) -> Any:
    course, _ = _published(request, db, slug)
    assisted = _assisted(request, db, user, learner_id)
    return _answer(request, db, course, attempt_id, form, learner_id=learner_id, helper=user,
                   assisted=assisted)


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
        commune_id = int(requested) if requested.isdigit() and int(requested) <= MAX_ID else None
    commune = db.get(Place, commune_id) if commune_id else None
    figures = services.staff_figures(db, catalog=courses.catalog(request, db), commune_id=commune_id)
    return render(request, "quiz/staff.html", {"figures": figures, "commune": commune,
                                               "communes": communes})
