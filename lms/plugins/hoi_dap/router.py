"""The question box's pages: `/hoi-dap?q=…` (a stable address people share) and each FAQ
entry at `/hoi-dap/<slug>`. Public: questions need no account."""

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from lms import security as access
from lms.context import context_of
from lms.core.models import Place, User
from lms.core.services import communes
from lms.db import get_session
from lms.errors import FormErrors, ServiceError
from lms.forms import FormValues, ObjectId
from lms.plugins.courses import services as courses
from lms.plugins.hoi_dap import services
from lms.plugins.hoi_dap.search import MAX_QUESTION
from lms.ratelimit import client_key, memory_window
from lms.templating import render

router = APIRouter()
QUESTIONS_PER_MINUTE = 30  # per client and worker: a person asks a few; a script is stopped


def _commune_of(request: Request) -> int | None:
    user = request.state.user
    return user.commune_id if user is not None else None


def _limited(request: Request) -> None:
    window = memory_window(request.app.state, "hoi_dap_questions")
    if not window.hit(client_key(request, "hoi-dap"), limit=QUESTIONS_PER_MINUTE):
        raise HTTPException(429, headers={"Retry-After": "60"})


def _ask_page(request: Request, db: Session, values: dict, *, error: str = "", status: int = 200) -> Any:
    """The answers to values["q"]; with `error`, the form that sends it to the team, shown again."""
    question = " ".join(values.get("q", "").split())
    answer = services.ask(db, question, commune_id=_commune_of(request),
                          semantic=request.app.state.settings.hoi_dap_semantic) if question else None
    return render(request, "hoi_dap/ask.html", {
        "question": question[:MAX_QUESTION], "too_long": len(question) > MAX_QUESTION, "answer": answer,
        "values": values, "send_error": error, "ask_team": request.query_params.get("hoi") == "1",
        "communes": communes(db) if answer or error else [],
    }, status_code=status, headers={"X-Robots-Tag": "noindex"} if question or error else None)


@router.get("/hoi-dap", dependencies=[access.PUBLIC_ROUTE])
def ask_page(request: Request, q: str = "", db: Session = Depends(get_session)) -> Any:
    if q.strip():
        _limited(request)
    return _ask_page(request, db, {"q": q})


# --- Questions sent to the commune's team (before /hoi-dap/{slug}, which would take them) ---


@router.post("/hoi-dap/gui", dependencies=[access.PUBLIC_FORM_ROUTE])
def send_question(request: Request, values: FormValues, db: Session = Depends(get_session)) -> Any:
    if access.expired_form(request):
        return _ask_page(request, db, values, error=access.EXPIRED_FORM, status=403)
    _limited(request)
    commune = values.get("commune_id", "")
    try:
        question = services.send_question(
            context_of(request), text=values.get("q", ""), commune_id=int(commune) if commune.isdigit() else None,
            asker=request.state.user, contact=values.get("contact", ""), consent=values.get("consent") == "1")
    except ServiceError as exc:
        if exc.status in (403, 404):
            raise
        return _ask_page(request, db, values, error=exc.message, status=exc.status)
    return RedirectResponse(f"/hoi-dap/cau-hoi/{question.token}?gui=1", status_code=303)


@router.get("/hoi-dap/cau-hoi/{token}", dependencies=[access.PUBLIC_ROUTE])
def question_page(request: Request, token: str, db: Session = Depends(get_session)) -> Any:
    question = services.question_by_token(db, token)
    if question is None:
        raise HTTPException(404)
    place = db.get(Place, question.commune_id) if question.commune_id else None
    # The address is the asker's key: never cached by others, never indexed.
    return render(request, "hoi_dap/question.html", {
        "question": question, "place": place, "sent": request.query_params.get("gui") == "1",
    }, headers={"Cache-Control": "private, no-store", "X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer"})


def _queue_page(request: Request, db: Session, user: User, *, errors: dict | None = None,
                drafts: dict | None = None, status: int = 200) -> Any:
    return render(request, "hoi_dap/queue.html", {
        "queue": services.queue(db, user), "errors": errors or {}, "drafts": drafts or {},
        "saved": request.query_params.get("da"), "can_promote": user.role in ("staff", "admin"),
    }, status_code=status, headers={"Cache-Control": "no-store"})


@router.get("/hoi-dap-tra-loi")
def question_queue(request: Request, user: User = Depends(access.team), db: Session = Depends(get_session)) -> Any:
    return _queue_page(request, db, user)


@router.post("/hoi-dap-tra-loi/{question_id}")
def answer_question(request: Request, question_id: ObjectId, values: FormValues, user: User = Depends(access.team),
                    db: Session = Depends(get_session)) -> Any:
    try:
        services.answer_question(context_of(request), actor=user, question_id=question_id,
                                 answer=values.get("answer", ""))
    except ServiceError as exc:
        if exc.status in (403, 404):
            raise
        return _queue_page(request, db, user, errors={question_id: exc.message},
                           drafts={question_id: values.get("answer", "")}, status=exc.status)
    return RedirectResponse(f"/hoi-dap-tra-loi?da=tra-loi#cau-{question_id}", status_code=303)


@router.post("/hoi-dap-tra-loi/{question_id}/dua-vao-hoi-dap")
def promote_question(request: Request, question_id: ObjectId, user: User = Depends(access.staff),
                     db: Session = Depends(get_session)) -> Any:
    try:
        entry = services.promote(context_of(request), actor=user, question_id=question_id)
    except ServiceError as exc:
        if exc.status in (403, 404):
            raise
        return _queue_page(request, db, user, errors={question_id: exc.message}, status=exc.status)
    return RedirectResponse(f"/hoi-dap/{entry.slug}", status_code=303)


# --- A commune's own entries (editors of the commune, as for its courses) ------------------


def _entries_page(request: Request, db: Session, user: User, *, editing: Any = None, values: dict | None = None,
                  errors: dict | None = None, status: int = 200) -> Any:
    if not services.may_write(db, user):
        # Staff who may not write yet are told who gives the permission (a page, not an error).
        return render(request, "hoi_dap/not_editor.html", {}, status_code=403 if status == 403 else 200)
    if values is None and editing is not None:
        source = (editing.sources or [{}])[0]
        values = {"question": editing.question, "also_asked": "\n".join(editing.also_asked),
                  "answer": editing.answer_md, "source_title": source.get("title", ""),
                  "source_url": source.get("url", "")}
    return render(request, "hoi_dap/entries.html", {
        "entries": services.local_entries(db, user), "editing": editing, "values": values or {},
        "errors": errors or {}, "communes": communes(db) if user.role == "admin" else [],
        "saved": request.query_params.get("da"),
    }, status_code=status, headers={"Cache-Control": "no-store"})


def _entry_input(values: dict) -> services.LocalEntryInput:
    fields = services.LocalEntryInput.__dataclass_fields__
    return services.LocalEntryInput(**{name: values.get(name, "") for name in fields})


@router.get("/hoi-dap-cua-xa")
def local_entries(request: Request, user: User = Depends(access.staff), db: Session = Depends(get_session)) -> Any:
    return _entries_page(request, db, user)


@router.get("/hoi-dap-cua-xa/{entry_id}")
def local_entry(request: Request, entry_id: ObjectId, user: User = Depends(access.staff),
                db: Session = Depends(get_session)) -> Any:
    editing = next((e for e in services.local_entries(db, user) if e.id == entry_id), None)
    if editing is None:
        raise HTTPException(404)
    return _entries_page(request, db, user, editing=editing)


@router.post("/hoi-dap-cua-xa")
def new_local_entry(request: Request, values: FormValues, user: User = Depends(access.staff),
                    db: Session = Depends(get_session)) -> Any:
    return _save(request, db, user, None, values)


@router.post("/hoi-dap-cua-xa/{entry_id}")
def change_local_entry(request: Request, entry_id: ObjectId, values: FormValues, user: User = Depends(access.staff),
                       db: Session = Depends(get_session)) -> Any:
    return _save(request, db, user, entry_id, values)


def _save(request: Request, db: Session, user: User, entry_id: int | None, values: dict) -> Any:
    try:
        entry = services.save_local_entry(context_of(request), actor=user, entry_id=entry_id,
                                          data=_entry_input(values))
    except FormErrors as exc:
        editing = next((e for e in services.local_entries(db, user) if e.id == entry_id), None)
        return _entries_page(request, db, user, editing=editing, values=values, errors=exc.errors, status=422)
    except ServiceError as exc:
        if exc.status == 403:
            return _entries_page(request, db, user, status=403)
        raise
    return RedirectResponse(f"/hoi-dap-cua-xa?da={entry.slug}", status_code=303)


@router.post("/hoi-dap-cua-xa/{entry_id}/go")
def retire_local_entry(request: Request, entry_id: ObjectId, user: User = Depends(access.staff)) -> Any:
    services.retire_local_entry(context_of(request), actor=user, entry_id=entry_id)
    return RedirectResponse("/hoi-dap-cua-xa?da=go", status_code=303)


@router.get("/hoi-dap/{slug}", dependencies=[access.PUBLIC_ROUTE])
def entry_page(request: Request, slug: str, db: Session = Depends(get_session)) -> Any:
    entry = services.entry(db, slug, commune_id=_commune_of(request))
    if entry is None:
        raise HTTPException(404)
    catalog = courses.catalog(request, db)
    lessons = {}
    for path in entry.see_also:
        _, _, course_slug, lesson_slug = path.split("/", 3)
        course = catalog.visible(course_slug, request.state.user)
        lesson = course.lesson(lesson_slug) if course else None
        if lesson is not None:
            lessons[path] = f"{lesson.title} ({course.title})"
    return render(request, "hoi_dap/entry.html", {"entry": entry, "lessons": lessons})
