"""Which courses make up the basic digital-skills level of each audience, and who reached it."""

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from lms.db import utcnow


class ProgrammeCourse(SQLModel, table=True):
    """A course an installation counts towards "mức phổ cập" for one audience."""

    __tablename__ = "programmes_course"

    audience: str = Field(primary_key=True, max_length=16)
    course_id: int = Field(foreign_key="courses_course.id", primary_key=True)
    set_by_id: int | None = Field(default=None, foreign_key="core_user.id")
    set_at: datetime = Field(default_factory=utcnow)


class ProgrammeCompletion(SQLModel, table=True):
    """A learner who completed every course of their audience's set: kept even if the set changes
    later, as a certificate says what was true when it was given."""

    __tablename__ = "programmes_completion"
    __table_args__ = (UniqueConstraint("user_id", "audience"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="core_user.id", index=True)
    audience: str = Field(max_length=16)
    # Printed on the paper and in its QR: /pho-cap/<code> tells anyone it is genuine.
    code: str = Field(max_length=20, unique=True)
    learner_name: str = Field(max_length=100)
    commune_id: int | None = Field(default=None, foreign_key="core_place.id", index=True)
    completed_at: datetime = Field(index=True)
    recorded_at: datetime = Field(default_factory=utcnow)
