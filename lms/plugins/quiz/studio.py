"""The quiz part of the course editor: questions of every installed type, each type bringing
its own form fields (`editor_template`, `from_editor`) and checked by its own `validate`, the
rule `lms courses check` applies. The quiz is kept in the draft as quiz.yaml."""

from typing import Any

import yaml
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from markupsafe import Markup
from sqlmodel import Session

from lms import security as access
from lms.context import context_of
from lms.core.models import User
from lms.db import get_session
from lms.errors import FormErrors
from lms.forms import FormLists, ObjectId
from lms.plugin_host import flatten
from lms.plugins.courses import services as courses
from lms.templating import render

router = APIRouter()
NO_STORE = {"Cache-Control": "no-store"}
MAX_QUESTIONS = 60


def _types(request: Request) -> dict[str, Any]:
    return {t.identifier: t for t in flatten(request.app.state.pm.hook.question_types())}


def quiz_of(shown: Any) -> dict[str, Any]:
    try:
        data = yaml.safe_load(shown.quiz) if shown.quiz else None
    except yaml.YAMLError:
        data = None
    data = data if isinstance(data, dict) else {}
    questions = data.get("questions")
    data["questions"] = [q for q in questions if isinstance(q, dict)] if isinstance(questions, list) else []
    data.setdefault("pass_mark", 80)
    return data


def _dump(quiz: dict[str, Any]) -> str:
    return yaml.safe_dump(quiz, allow_unicode=True, sort_keys=False, width=100)


def studio_section(request: Request, db: Session, draft: Any) -> Markup:
    shown = courses.editable_draft(db, user=request.state.user, draft_id=draft.id)
    quiz = quiz_of(shown)
    template = request.app.state.templates.get_template("quiz/editor/section.html")
    return Markup(template.render(draft=draft, quiz=quiz))  # noqa: S704 - an autoescaped template


@router.get("/studio/{draft_id}/quiz")
def quiz_page(request: Request, draft_id: ObjectId, user: User = Depends(access.staff),
              db: Session = Depends(get_session)) -> Any:
    shown = courses.editable_draft(db, user=user, draft_id=draft_id)
    return render(request, "quiz/editor/quiz.html", {
        "shown": shown, "draft": shown.draft, "quiz": quiz_of(shown), "types": _types(request),
        "lessons": {e.slug: e.title for e in shown.lessons}, "errors": {},
        "saved": request.query_params.get("saved")}, headers=NO_STORE)


@router.post("/studio/{draft_id}/quiz")
def quiz_settings(request: Request, draft_id: ObjectId, lists: FormLists, user: User = Depends(access.staff),
                  db: Session = Depends(get_session)) -> Any:
    shown = courses.editable_draft(db, user=user, draft_id=draft_id)
    quiz = quiz_of(shown)
    raw = (lists.get("pass_mark") or [""])[0].strip()
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        return render(request, "quiz/editor/quiz.html", {
            "shown": shown, "draft": shown.draft, "quiz": quiz, "types": _types(request),
            "lessons": {e.slug: e.title for e in shown.lessons}, "saved": None,
            "errors": {"pass_mark": "Điểm đạt là số phần trăm, từ 1 đến 100."}}, status_code=422, headers=NO_STORE)
    quiz["pass_mark"] = int(raw)
    courses.save_draft_quiz(context_of(request), actor=user, draft_id=draft_id, quiz_yaml=_dump(quiz),
                            summary=f"Đặt điểm đạt bài kiểm tra: {raw}%")
    return RedirectResponse(f"/studio/{draft_id}/quiz?saved=settings", status_code=303)


def _question_page(request: Request, shown: Any, kind: Any, question: dict, *, number: int | None,
                   errors: dict | None = None, status: int = 200) -> Any:
    return render(request, "quiz/editor/question.html", {
        "shown": shown, "draft": shown.draft, "kind": kind, "config": question, "number": number,
        "lessons": shown.lessons, "errors": errors or {}}, status_code=status, headers=NO_STORE)


def _question_from(kind: Any, lists: dict[str, list[str]], lessons: list[str], question_id: str) -> tuple[dict, dict]:
    def one(name: str) -> str:
        return " ".join((lists.get(name) or [""])[0].split())

    question = {"id": question_id, "type": kind.identifier, "lesson": one("lesson"), "prompt": one("prompt")}
    question.update(kind.from_editor(lists))
    question["explanation"] = one("explanation")
    errors: dict[str, str] = {}
    if question["lesson"] not in lessons:
        errors["lesson"] = "Hãy chọn bài học mà câu hỏi kiểm tra."
    if not question["prompt"]:
        errors["prompt"] = "Hãy nhập câu hỏi."
    if not question["explanation"]:
        errors["explanation"] = "Hãy giải thích ngắn vì sao đáp án đúng (người học đọc sau khi nộp bài)."
    friendly = kind.editor_problems(question) if hasattr(kind, "editor_problems") else []
    for where, message in friendly or kind.validate(question):
        key = f"{where[0]}-{where[1]}" if isinstance(where, tuple) else (where or "answer")
        errors.setdefault(key, message[:1].upper() + message[1:])
    return question, errors


def _kind(request: Request, identifier: str) -> Any:
    kind = _types(request).get(identifier)
    if kind is None or not hasattr(kind, "from_editor"):
        raise HTTPException(404)
    return kind


@router.get("/studio/{draft_id}/quiz/new/{type_id}")
def question_new(request: Request, draft_id: ObjectId, type_id: str, user: User = Depends(access.staff),
                 db: Session = Depends(get_session)) -> Any:
    shown = courses.editable_draft(db, user=user, draft_id=draft_id)
    return _question_page(request, shown, _kind(request, type_id), {"type": type_id}, number=None)


@router.get("/studio/{draft_id}/quiz/{number}")
def question_edit(request: Request, draft_id: ObjectId, number: ObjectId, user: User = Depends(access.staff),
                  db: Session = Depends(get_session)) -> Any:
    shown = courses.editable_draft(db, user=user, draft_id=draft_id)
    questions = quiz_of(shown)["questions"]
    if number > len(questions):
        raise HTTPException(404)
    question = questions[number - 1]
    return _question_page(request, shown, _kind(request, str(question.get("type"))), question, number=number)


def _save(request: Request, db: Session, user: User, draft_id: int, kind: Any, lists: dict,
          number: int | None) -> Any:
    shown = courses.editable_draft(db, user=user, draft_id=draft_id)
    quiz = quiz_of(shown)
    questions = quiz["questions"]
    if number is not None and number > len(questions):
        raise HTTPException(404)
    if number is None and len(questions) >= MAX_QUESTIONS:
        raise FormErrors({"prompt": f"Một bài kiểm tra có tối đa {MAX_QUESTIONS} câu hỏi."})
    taken = {str(q.get("id")) for q in questions}
    question_id = str(questions[number - 1].get("id")) if number else next(
        f"q{n}" for n in range(1, 1000) if f"q{n}" not in taken)
    question, errors = _question_from(kind, lists, [e.slug for e in shown.lessons], question_id)
    if errors:
        return _question_page(request, shown, kind, question, number=number, errors=errors, status=422)
    if number is None:
        questions.append(question)
        summary = f"Thêm câu hỏi {len(questions)} của bài kiểm tra"
    else:
        questions[number - 1] = question
        summary = f"Sửa câu hỏi {number} của bài kiểm tra"
    courses.save_draft_quiz(context_of(request), actor=user, draft_id=draft_id, quiz_yaml=_dump(quiz),
                            summary=summary)
    return RedirectResponse(f"/studio/{draft_id}/quiz?saved=question", status_code=303)


@router.post("/studio/{draft_id}/quiz/new/{type_id}")
def question_create(request: Request, draft_id: ObjectId, type_id: str, lists: FormLists,
                    user: User = Depends(access.staff), db: Session = Depends(get_session)) -> Any:
    return _save(request, db, user, draft_id, _kind(request, type_id), lists, None)


@router.post("/studio/{draft_id}/quiz/{number}")
def question_update(request: Request, draft_id: ObjectId, number: ObjectId, lists: FormLists,
                    user: User = Depends(access.staff), db: Session = Depends(get_session)) -> Any:
    shown = courses.editable_draft(db, user=user, draft_id=draft_id)
    questions = quiz_of(shown)["questions"]
    if number > len(questions):
        raise HTTPException(404)
    return _save(request, db, user, draft_id, _kind(request, str(questions[number - 1].get("type"))), lists, number)


@router.post("/studio/{draft_id}/quiz/{number}/delete")
def question_delete(request: Request, draft_id: ObjectId, number: ObjectId, user: User = Depends(access.staff),
                    db: Session = Depends(get_session)) -> Any:
    shown = courses.editable_draft(db, user=user, draft_id=draft_id)
    quiz = quiz_of(shown)
    if number > len(quiz["questions"]):
        raise HTTPException(404)
    del quiz["questions"][number - 1]
    courses.save_draft_quiz(context_of(request), actor=user, draft_id=draft_id,
                            quiz_yaml=_dump(quiz) if quiz["questions"] else None,
                            summary=f"Xóa câu hỏi {number} của bài kiểm tra")
    return RedirectResponse(f"/studio/{draft_id}/quiz?saved=deleted", status_code=303)
