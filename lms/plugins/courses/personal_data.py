"""The courses plugin's part of a person's data: enrolments, lessons done, editor permission."""

from typing import Any

from sqlalchemy import delete, select
from sqlmodel import Session

from lms.hookspecs import hookimpl
from lms.personal_data import DataSection, ErasureNote, as_rows
from lms.plugins.courses.models import ContentEditor, Course, Enrolment, LessonProgress

STATS_KEPT = "Giữ (không kèm tên, số điện thoại) để số liệu thống kê của xã không đổi."


@hookimpl
def personal_data_export(db: Session, user: Any) -> list[DataSection]:
    titles = dict(db.exec(select(Course.id, Course.title)).all())
    enrolments = db.exec(select(Enrolment).where(Enrolment.user_id == user.id)).scalars().all()
    progress = db.exec(select(LessonProgress).where(LessonProgress.user_id == user.id)).scalars().all()
    return [
        DataSection("courses_enrolment", "Khóa học đã ghi danh", [
            {"Khóa học": titles.get(e.course_id, ""), **row} for e, row in zip(enrolments, as_rows(enrolments, {
                "Ghi danh lúc": "enrolled_at", "Học gần nhất": "last_activity_at", "Hoàn thành lúc": "completed_at"}),
                strict=True)]),
        DataSection("courses_lesson_progress", "Bài học đã học xong", [
            {"Khóa học": titles.get(p.course_id, ""), **row} for p, row in zip(progress, as_rows(progress, {
                "Bài (mã)": "lesson_id", "Xong lúc": "completed_at", "Người xác nhận (mã)": "confirmed_by_id"}),
                strict=True)]),
        DataSection("courses_editor", "Quyền soạn khóa học", as_rows(
            [r for r in [db.get(ContentEditor, user.id)] if r is not None], {"Được giao lúc": "granted_at"})),
    ]


@hookimpl
def personal_data_erase(db: Session, user: Any, actor: Any) -> list[ErasureNote]:
    enrolments = len(db.exec(select(Enrolment.id).where(Enrolment.user_id == user.id)).all())
    progress = len(db.exec(select(LessonProgress.id).where(LessonProgress.user_id == user.id)).all())
    editors = db.execute(delete(ContentEditor).where(ContentEditor.user_id == user.id)).rowcount or 0
    return [ErasureNote("courses_enrolment", "kept", enrolments, STATS_KEPT),
            ErasureNote("courses_lesson_progress", "kept", progress, STATS_KEPT),
            ErasureNote("courses_editor", "deleted", editors)]
