"""Starting, saving, submitting and grading quiz attempts, alone or with a helper; figures for staff."""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from lms.context import Context
from lms.core.models import User
from lms.db import utcnow
from lms.errors import FormErrors, NotFound, ServiceError
from lms.events import record
from lms.plugins import flatten
from lms.plugins.courses import services as courses
from lms.plugins.quiz.events import QuizPassed
from lms.plugins.quiz.models import QuizAttempt
from lms.plugins.quiz.question_types import InvalidAnswer

# No answer needs more: option keys, step numbers, a number typed in.
MAX_ANSWER_CHARS = 200
INVALID_ANSWERS = ("Có câu trả lời không hợp lệ; chưa có gì được lưu. "
                   "Vui lòng xem lại các câu được đánh dấu.")
SUBMITTED = "Bài làm này đã được nộp trước đó; kết quả ở bên dưới."


def question_types(pm: Any) -> dict[str, Any]:
    return {t.identifier: t for t in flatten(pm.hook.question_types())}


def quiz_of(db: Session, course: courses.CourseOutline) -> dict | None:
    return courses.quiz_of(db, course_id=course.id) if course.has_quiz else None


def attempts_of(db: Session, *, user_id: int, course_id: int) -> list[QuizAttempt]:
    return list(db.exec(select(QuizAttempt).where(
        QuizAttempt.user_id == user_id, QuizAttempt.course_id == course_id)
        .order_by(QuizAttempt.started_at.desc())).scalars().all())


def attempts_of_learner(db: Session, *, user_id: int) -> list[QuizAttempt]:
    """Every attempt of one learner, newest first."""
    return list(db.exec(select(QuizAttempt).where(QuizAttempt.user_id == user_id)
                        .order_by(QuizAttempt.started_at.desc())).scalars().all())


def has_passed(db: Session, *, user_id: int, course_id: int) -> bool:
    return db.exec(select(QuizAttempt.id).where(
        QuizAttempt.user_id == user_id, QuizAttempt.course_id == course_id,
        QuizAttempt.passed.is_(True)).limit(1)).first() is not None


def best_attempt(attempts: list[QuizAttempt]) -> QuizAttempt | None:
    """The best passing attempt counts; without one, the best score so far."""
    finished = [a for a in attempts if a.submitted_at is not None]
    if not finished:
        return None
    return max(finished, key=lambda a: (bool(a.passed), a.score or 0, -a.id))


def cooldown_minutes_left(quiz: dict, attempts: list[QuizAttempt]) -> int:
    wait = int(quiz.get("cooldown_minutes") or 0)
    finished = [a.submitted_at for a in attempts if a.submitted_at is not None]
    if not wait or not finished:
        return 0
    free_at = max(finished) + timedelta(minutes=wait)
    seconds = (free_at - utcnow()).total_seconds()
    return 0 if seconds <= 0 else int(seconds // 60) + 1


def assisted_page(db: Session, *, pm: Any, helper: User, learner_id: int) -> str | None:
    """The page `helper` works from when they may take this learner's quiz with them, else None."""
    if not hasattr(pm.hook, "assisted_learner_page"):
        return None
    return pm.hook.assisted_learner_page(db=db, helper=helper, learner_id=learner_id)


def _check_helper(db: Session, pm: Any, helper: User | None, learner_id: int) -> None:
    if helper is not None and assisted_page(db, pm=pm, helper=helper, learner_id=learner_id) is None:
        raise NotFound()


def open_attempt(db: Session, *, pm: Any, user_id: int, course: courses.CourseOutline,
                 helper_id: int | None = None) -> QuizAttempt:
    """The learner's unfinished attempt, or a new one (options shuffled for this attempt);
    in the caller's transaction. With `helper_id`, the attempt records who helped."""
    quiz = quiz_of(db, course)
    if not quiz:
        raise NotFound()
    attempts = attempts_of(db, user_id=user_id, course_id=course.id)
    current = next((a for a in attempts if a.submitted_at is None), None)
    if current is None:
        wait = cooldown_minutes_left(quiz, attempts)
        if wait:
            raise ServiceError("cooldown", f"Bạn cần chờ thêm {wait} phút trước khi làm lại bài kiểm tra.", 429)
        types = question_types(pm)
        shown = [{"config": q, "shown": types[q["type"]].prepare(q)} for q in quiz["questions"]]
        current = QuizAttempt(user_id=user_id, course_id=course.id, pass_mark=int(quiz["pass_mark"]),
                              questions=shown, helper_id=helper_id)
        try:
            with db.begin_nested():
                db.add(current)
        except IntegrityError:
            # Another request of the same learner started one a moment ago: use it.
            current = next(a for a in attempts_of(db, user_id=user_id, course_id=course.id)
                           if a.submitted_at is None)
    if helper_id is not None and current.helper_id != helper_id:
        current.helper_id = helper_id
        db.add(current)
        db.flush()
    return current


def start_attempt(ctx: Context, *, user_id: int, course: courses.CourseOutline,
                  helper: User | None = None) -> QuizAttempt:
    """Start (or resume) the learner's attempt; with `helper`, taken together with them."""
    with ctx.transaction() as db:
        _check_helper(db, ctx.pm, helper, user_id)
        return open_attempt(db, pm=ctx.pm, user_id=user_id, course=course,
                            helper_id=helper.id if helper else None)


def read_answers(types: dict[str, Any], attempt: QuizAttempt,
                 form: dict[str, list[str]]) -> dict[str, Any]:
    """Every answer in the form checked against what this attempt showed."""
    form = {key: [value[:MAX_ANSWER_CHARS] for value in values] for key, values in form.items()}
    answers: dict[str, Any] = {}
    errors: dict[int, str] = {}
    for index, question in enumerate(attempt.questions):
        field_name = f"q{index}"
        kind = types.get(question["config"]["type"])
        if kind is None:
            errors[index] = "Loại câu hỏi này hiện không dùng được."
            continue
        try:
            answer = kind.parse(form.get(field_name, []), field_name, form, question["shown"])
        except InvalidAnswer as exc:
            errors[index] = str(exc)
            continue
        if answer is not None:
            answers[str(index)] = answer
    unknown = [key for key in form if key.startswith("q") and not _known_field(key, attempt)]
    if unknown:
        errors[-1] = "Biểu mẫu có câu trả lời không thuộc bài làm này."
    if errors:
        # Keys are question indexes (-1: the form as a whole).
        raise FormErrors(errors, INVALID_ANSWERS, code="invalid_answer")
    return answers


def _known_field(key: str, attempt: QuizAttempt) -> bool:
    head = key.split("-", 1)[0]
    return head[1:].isdigit() and int(head[1:]) < len(attempt.questions)


def owned_attempt(db: Session, *, attempt_id: int, user_id: int, course_id: int) -> QuizAttempt | None:
    attempt = db.get(QuizAttempt, attempt_id)
    if attempt is None or attempt.user_id != user_id or attempt.course_id != course_id:
        return None
    return attempt


def _owned(db: Session, *, attempt_id: int, user_id: int, course_id: int) -> QuizAttempt:
    attempt = owned_attempt(db, attempt_id=attempt_id, user_id=user_id, course_id=course_id)
    if attempt is None:
        raise NotFound()
    return attempt


def _keep_answers(db: Session, attempt: QuizAttempt, answers: dict[str, Any], helper: User | None) -> bool:
    """Store answers on a still open attempt; False when it was submitted meanwhile."""
    values: dict[str, Any] = {"answers": answers, "saved_at": utcnow()}
    if helper is not None:
        values["helper_id"] = helper.id
    kept = db.execute(update(QuizAttempt).where(
        QuizAttempt.id == attempt.id, QuizAttempt.submitted_at.is_(None)).values(**values))
    db.refresh(attempt)
    return bool(kept.rowcount)


def save_answers(ctx: Context, *, user_id: int, course_id: int, attempt_id: int,
                 form: dict[str, list[str]], helper: User | None = None) -> QuizAttempt:
    """Keep the answers so far, to go on later; invalid ones save nothing (FormErrors)."""
    types = question_types(ctx.pm)
    with ctx.transaction() as db:
        _check_helper(db, ctx.pm, helper, user_id)
        attempt = _owned(db, attempt_id=attempt_id, user_id=user_id, course_id=course_id)
        if attempt.submitted_at is not None:
            raise ServiceError("finished", "Bài làm này đã nộp nên không sửa được nữa.", 409)
        if not _keep_answers(db, attempt, read_answers(types, attempt, form), helper):
            raise ServiceError("finished", "Bài làm này đã nộp nên không sửa được nữa.", 409)
        return attempt


def submit(ctx: Context, *, user_id: int, course_id: int, attempt_id: int,
           form: dict[str, list[str]], helper: User | None = None) -> QuizAttempt:
    """Grade and close the attempt (recording quiz.passed when passed).

    With questions left unanswered, the answers given are kept and
    ServiceError("unanswered") raised once they are committed."""
    types = question_types(ctx.pm)
    unanswered: ServiceError | None = None
    with ctx.transaction() as db:
        _check_helper(db, ctx.pm, helper, user_id)
        attempt = _owned(db, attempt_id=attempt_id, user_id=user_id, course_id=course_id)
        if attempt.submitted_at is not None:
            raise ServiceError("finished", SUBMITTED, 409)
        answers = read_answers(types, attempt, form)
        missing = [i + 1 for i in range(len(attempt.questions)) if str(i) not in answers]
        if missing:
            if not _keep_answers(db, attempt, answers, helper):
                raise ServiceError("finished", SUBMITTED, 409)
            unanswered = ServiceError("unanswered", "Bạn chưa trả lời câu " + ", ".join(map(str, missing))
                                      + ". Các câu đã trả lời được lưu lại.")
        else:
            _grade(db, types, attempt, answers, helper)
    if unanswered is not None:
        raise unanswered
    return attempt


def _grade(db: Session, types: dict[str, Any], attempt: QuizAttempt, answers: dict[str, Any],
           helper: User | None) -> None:
    results = {}
    for index, question in enumerate(attempt.questions):
        config = question["config"]
        results[str(index)] = types[config["type"]].grade(config, answers[str(index)])
    score = round(100 * sum(results.values()) / len(results), 1)
    passed = score >= attempt.pass_mark
    now = utcnow()
    values: dict[str, Any] = {"answers": answers, "results": results, "score": score, "passed": passed,
                              "submitted_at": now, "saved_at": now}
    if helper is not None:
        values["helper_id"] = helper.id
    # Conditional on still being open: a double tap grades once.
    closed = db.execute(update(QuizAttempt).where(
        QuizAttempt.id == attempt.id, QuizAttempt.submitted_at.is_(None)).values(**values))
    if not closed.rowcount:
        raise ServiceError("finished", SUBMITTED, 409)
    db.refresh(attempt)
    if passed:
        record(db, QuizPassed(user_id=attempt.user_id, course_id=attempt.course_id,
                              attempt_id=attempt.id, score=score))


def explain(types: dict[str, Any], attempt: QuizAttempt) -> list[dict[str, Any]]:
    rows = []
    for index, question in enumerate(attempt.questions):
        config = question["config"]
        score = attempt.results.get(str(index), 0)
        said = types[config["type"]].explain(config, question["shown"], attempt.answers.get(str(index)))
        rows.append({"number": index + 1, "prompt": config["prompt"], "score": score,
                     "right": score >= 1, "partly": 0 < score < 1, "chosen": said.chosen,
                     "correct": said.correct, "explanation": config.get("explanation", "")})
    return rows


# --- Figures for staff ------------------------------------------------------------


@dataclass
class QuizFigures:
    course: courses.CourseOutline
    attempts: int = 0
    passed: int = 0
    learners: int = 0
    learners_passed: int = 0
    questions: list[tuple[str, float]] = field(default_factory=list)  # prompt, share correct

    @property
    def pass_rate(self) -> int:
        return round(100 * self.passed / self.attempts) if self.attempts else 0


def staff_figures(db: Session, *, catalog: courses.Catalog, commune_id: int | None) -> list[QuizFigures]:
    """Per quiz: attempts, pass rate and each question's share of right answers, for the
    learners of one commune (None: everyone). One query for all attempts."""
    statement = select(QuizAttempt.course_id, QuizAttempt.user_id, QuizAttempt.passed,
                       QuizAttempt.results, QuizAttempt.questions).where(
        QuizAttempt.submitted_at.is_not(None))
    if commune_id is not None:
        statement = statement.join(User, User.id == QuizAttempt.user_id).where(
            User.commune_id == commune_id)
    by_course: dict[int, QuizFigures] = {
        c.id: QuizFigures(c) for c in catalog.courses if c.has_quiz}
    learners: dict[int, set[int]] = {}
    learners_passed: dict[int, set[int]] = {}
    right: dict[int, dict[str, list[float]]] = {}
    for row in db.exec(statement).all():
        figures = by_course.get(row.course_id)
        if figures is None:
            continue
        figures.attempts += 1
        figures.passed += bool(row.passed)
        learners.setdefault(row.course_id, set()).add(row.user_id)
        if row.passed:
            learners_passed.setdefault(row.course_id, set()).add(row.user_id)
        per_question = right.setdefault(row.course_id, {})
        for index, question in enumerate(row.questions):
            prompt = question["config"]["prompt"]
            per_question.setdefault(prompt, []).append(float(row.results.get(str(index), 0) >= 1))
    for course_id, figures in by_course.items():
        figures.learners = len(learners.get(course_id, ()))
        figures.learners_passed = len(learners_passed.get(course_id, ()))
        figures.questions = [(prompt, round(100 * sum(v) / len(v)))
                             for prompt, v in right.get(course_id, {}).items()]
    return list(by_course.values())
