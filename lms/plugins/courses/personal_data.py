"""The courses plugin's part of a person's data: enrolments, lessons done, editor permission,
recordings of lessons they uploaded (with the reader's name shown on the lesson)."""

from typing import Any

from sqlalchemy import delete, select, update
from sqlmodel import Session

from lms.hookspecs import hookimpl
from lms.personal_data import DataSection, ErasureNote, as_rows
from lms.plugins.courses.models import (
    BulletinMade,
    ContentEditor,
    Course,
    Enrolment,
    LessonProgress,
    LessonRecording,
)
from lms.plugins.courses.services import catalog_changed

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
        DataSection("courses_lesson_recording", "Bản ghi âm bài học đã tải lên", as_rows(
            db.exec(select(LessonRecording).where(LessonRecording.uploaded_by_id == user.id)).scalars().all(),
            {"Bài (mã)": "lesson_id", "Người đọc": "speaker_name", "Tải lên lúc": "uploaded_at"})),
        DataSection("courses_bulletin", "Bản tin truyền thanh đã làm", as_rows(
            db.exec(select(BulletinMade).where(BulletinMade.made_by_id == user.id)).scalars().all(),
            {"Làm lúc": "made_at", "Các mục": "titles"})),
    ]


@hookimpl
def personal_data_erase(db: Session, user: Any, actor: Any) -> list[ErasureNote]:
    enrolments = len(db.exec(select(Enrolment.id).where(Enrolment.user_id == user.id)).all())
    progress = len(db.exec(select(LessonProgress.id).where(LessonProgress.user_id == user.id)).all())
    editors = db.execute(delete(ContentEditor).where(ContentEditor.user_id == user.id)).rowcount or 0
    # The recording stays for learners; who uploaded it and the name read out on the lesson go.
    recordings = db.execute(update(LessonRecording).where(LessonRecording.uploaded_by_id == user.id)
                            .values(uploaded_by_id=None, speaker_name="")).rowcount or 0
    if recordings:
        catalog_changed(db)  # lesson pages cache the name under their player
    bulletins = db.execute(update(BulletinMade).where(BulletinMade.made_by_id == user.id)
                           .values(made_by_id=None)).rowcount or 0
    return [ErasureNote("courses_enrolment", "kept", enrolments, STATS_KEPT),
            ErasureNote("courses_lesson_progress", "kept", progress, STATS_KEPT),
            ErasureNote("courses_editor", "deleted", editors),
            ErasureNote("courses_lesson_recording", "anonymised", recordings,
                        "Bản ghi âm vẫn dùng cho bài học, không còn tên người tải lên và người đọc."),
            ErasureNote("courses_bulletin", "anonymised", bulletins,
                        "Giữ việc xã đã làm bản tin (cho theo dõi kế hoạch), không còn người làm.")]
