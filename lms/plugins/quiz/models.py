"""Quiz attempts: what was shown, what was answered, how it was graded."""

from datetime import datetime

from sqlalchemy import JSON, Column, Index, text
from sqlmodel import Field, SQLModel

from lms.db import utcnow


class QuizAttempt(SQLModel, table=True):
    __tablename__ = "quiz_attempt"
    __table_args__ = (
        Index("ix_quiz_attempt_user_course", "user_id", "course_id"),
        # At most one unfinished attempt per learner and course, whatever retries do.
        Index("uq_quiz_attempt_open", "user_id", "course_id", unique=True,
              sqlite_where=text("submitted_at IS NULL"),
              postgresql_where=text("submitted_at IS NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="core_user.id")
    course_id: int = Field(foreign_key="courses_course.id", index=True)
    pass_mark: int = Field(default=80)
    started_at: datetime = Field(default_factory=utcnow)
    saved_at: datetime | None = Field(default=None)
    submitted_at: datetime | None = Field(default=None, index=True)
    score: float | None = Field(default=None)
    passed: bool | None = Field(default=None)
    # Taken with someone present who helped (a team member), whose name the records show.
    helper_id: int | None = Field(default=None, foreign_key="core_user.id")
    # Each question's config as it stood at the start and what this attempt showed
    # (shuffled order, per-attempt keys): grading never trusts the browser for these.
    questions: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    answers: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    results: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
