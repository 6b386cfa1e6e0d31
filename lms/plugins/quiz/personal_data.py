"""The quiz plugin's part of a person's data: their attempts."""

from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from lms.hookspecs import hookimpl
from lms.personal_data import DataSection, ErasureNote, as_rows
from lms.plugins.quiz.models import QuizAttempt


@hookimpl
def personal_data_export(db: Session, user: Any) -> list[DataSection]:
    attempts = db.exec(select(QuizAttempt).where(QuizAttempt.user_id == user.id)
                       .order_by(QuizAttempt.id)).scalars().all()
    return [DataSection("quiz_attempt", "Bài kiểm tra đã làm", as_rows(attempts, {
        "Khóa học (mã)": "course_id", "Bắt đầu": "started_at", "Nộp lúc": "submitted_at", "Điểm": "score",
        "Đạt": "passed", "Người giúp (mã)": "helper_id", "Câu trả lời": "answers"}))]


@hookimpl
def personal_data_erase(db: Session, user: Any, actor: Any) -> list[ErasureNote]:
    count = len(db.exec(select(QuizAttempt.id).where(QuizAttempt.user_id == user.id)).all())
    return [ErasureNote("quiz_attempt", "kept", count,
                        "Giữ điểm (không kèm tên, số điện thoại) cho thống kê bài kiểm tra của xã.")]
