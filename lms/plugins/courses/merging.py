"""Two accounts of one person become one: enrolments and lesson progress move to the kept account.

A course or lesson in both accounts is combined into the kept row (earliest start and
completion, latest activity). Completion that only the combined progress reaches is checked
after the merge commits, when every plugin has moved its rows (see on_event)."""

from typing import Any

from sqlalchemy import delete, select, update
from sqlmodel import Session

from lms.core.models import User
from lms.hookspecs import hookimpl
from lms.merging import MergeItem
from lms.plugins.courses.models import Enrolment, LessonProgress


def _earliest(first: Any, second: Any) -> Any:
    return min(v for v in (first, second) if v is not None) if first or second else None


@hookimpl
def merge_accounts(db: Session, keep: User, drop: User, apply: bool) -> list[MergeItem]:
    kept_enrolments = {e.course_id: e for e in db.exec(
        select(Enrolment).where(Enrolment.user_id == keep.id)).scalars().all()}
    moving_enrolments = db.exec(select(Enrolment).where(Enrolment.user_id == drop.id)).scalars().all()
    kept_lessons = {p.lesson_id: p for p in db.exec(
        select(LessonProgress).where(LessonProgress.user_id == keep.id)).scalars().all()}
    moving_lessons = db.exec(select(LessonProgress).where(LessonProgress.user_id == drop.id)).scalars().all()
    both_courses = [e for e in moving_enrolments if e.course_id in kept_enrolments]
    both_lessons = [p for p in moving_lessons if p.lesson_id in kept_lessons]
    if apply:
        for moving in both_courses:
            kept = kept_enrolments[moving.course_id]
            kept.enrolled_at = _earliest(kept.enrolled_at, moving.enrolled_at)
            kept.last_activity_at = max(kept.last_activity_at, moving.last_activity_at)
            kept.lessons_completed_at = _earliest(kept.lessons_completed_at, moving.lessons_completed_at)
            kept.completed_at = _earliest(kept.completed_at, moving.completed_at)
            db.add(kept)
        for moving in both_lessons:
            kept = kept_lessons[moving.lesson_id]
            if moving.completed_at < kept.completed_at:
                kept.completed_at, kept.confirmed_by_id = moving.completed_at, moving.confirmed_by_id
                db.add(kept)
        db.flush()
        # Delete the combined ones first: the unique (user, course/lesson) pairs would clash.
        if both_courses:
            db.execute(delete(Enrolment).where(Enrolment.id.in_([e.id for e in both_courses])))
        if both_lessons:
            db.execute(delete(LessonProgress).where(LessonProgress.id.in_([p.id for p in both_lessons])))
        db.execute(update(Enrolment).where(Enrolment.user_id == drop.id).values(user_id=keep.id))
        db.execute(update(LessonProgress).where(LessonProgress.user_id == drop.id).values(user_id=keep.id))
    return [
        MergeItem("Khóa học đã ghi danh", len(moving_enrolments),
                  f"{len(both_courses)} khóa có ở cả hai tài khoản: gộp thành một" if both_courses else ""),
        MergeItem("Bài học đã học xong", len(moving_lessons),
                  f"{len(both_lessons)} bài có ở cả hai tài khoản: giữ lần học sớm hơn" if both_lessons else ""),
    ]


def recheck_completion(db: Session, *, pm: Any, user_id: int) -> None:
    """After a merge: courses whose lessons the combined progress now covers."""
    from lms.plugins.courses.services import Catalog, check_completion

    open_course_ids = db.exec(select(Enrolment.course_id).where(
        Enrolment.user_id == user_id, Enrolment.completed_at.is_(None))).scalars().all()
    if not open_course_ids:
        return
    catalog = Catalog().refresh(db)
    for course_id in open_course_ids:
        course = catalog.by_slug_id(course_id)
        if course is not None:
            check_completion(db, pm=pm, user_id=user_id, course=course)
