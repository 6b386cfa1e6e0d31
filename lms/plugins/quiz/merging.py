"""Two accounts of one person become one: quiz attempts move to the kept account.

Each account may hold one unfinished attempt per course; when both do, the kept account's
stays and the other's unsubmitted answers are dropped (nothing graded is ever lost)."""

from sqlalchemy import delete, select, update
from sqlmodel import Session

from lms.core.models import User
from lms.hookspecs import hookimpl
from lms.merging import MergeItem
from lms.plugins.quiz.models import QuizAttempt


@hookimpl
def merge_accounts(db: Session, keep: User, drop: User, apply: bool) -> list[MergeItem]:
    moving = db.exec(select(QuizAttempt.id, QuizAttempt.course_id, QuizAttempt.submitted_at)
                     .where(QuizAttempt.user_id == drop.id)).all()
    kept_open = set(db.exec(select(QuizAttempt.course_id).where(
        QuizAttempt.user_id == keep.id, QuizAttempt.submitted_at.is_(None))).scalars().all())
    clashing = [row.id for row in moving if row.submitted_at is None and row.course_id in kept_open]
    if apply:
        if clashing:
            db.execute(delete(QuizAttempt).where(QuizAttempt.id.in_(clashing)))
        db.execute(update(QuizAttempt).where(QuizAttempt.user_id == drop.id).values(user_id=keep.id))
    note = (f"{len(clashing)} bài làm dở trùng khóa học với tài khoản được giữ: bỏ bài làm dở này"
            if clashing else "")
    return [MergeItem("Lượt làm bài kiểm tra", len(moving) - len(clashing), note)]
