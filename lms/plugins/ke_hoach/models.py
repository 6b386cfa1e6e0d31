"""A commune's communication plans, their tasks, the evidence of what was done, and who changed what."""

from datetime import date, datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from lms.db import utcnow


class Plan(SQLModel, table=True):
    __tablename__ = "kehoach_plan"
    # An imported example is found again by its key: importing twice makes one plan.
    __table_args__ = (UniqueConstraint("commune_id", "source_key"),)

    id: int | None = Field(default=None, primary_key=True)
    commune_id: int = Field(foreign_key="core_place.id", index=True)
    source_key: str | None = Field(default=None, max_length=60)
    title: str = Field(max_length=300)
    year: int | None = None
    document_number: str = Field(default="", max_length=60)  # as written: "15/KH-UBND"
    document_date: str = Field(default="", max_length=40)  # as written: "20/8/2025"
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Task(SQLModel, table=True):
    __tablename__ = "kehoach_task"
    __table_args__ = (UniqueConstraint("plan_id", "source_key"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="kehoach_plan.id", index=True)
    source_key: str | None = Field(default=None, max_length=60)
    position: int = Field(default=0)
    section: str = Field(default="", max_length=20)  # the plan's numbering: "II.2.1"
    title: str = Field(max_length=300)
    details: str = Field(default="", sa_column=Column(Text, nullable=False))  # the plan's own words
    body: str = Field(max_length=30)  # a key of example.BODIES
    partners: str = Field(default="", max_length=300)  # bodies that "phối hợp", as written
    deadline: date | None = None
    recurrence: str = Field(default="", max_length=10)  # "", weekly, quarterly, yearly
    starts_on: date | None = None  # the first period a recurring task is due
    status: str = Field(default="chua-bat-dau", max_length=16)
    done_at: datetime | None = None  # when the status last became "hoàn thành"
    notes: str = Field(default="", sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)


class Evidence(SQLModel, table=True):
    """What the commune did for a task, copied when attached: the report still reads if the
    event, course or news item is later removed."""

    __tablename__ = "kehoach_evidence"
    __table_args__ = (UniqueConstraint("task_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="kehoach_task.id", index=True)
    key: str = Field(max_length=120)  # the EvidenceChoice key, or "lien-ket:<digest>" for an outside link
    group: str = Field(default="", max_length=120)
    title: str = Field(max_length=300)
    url: str = Field(max_length=500)
    at: datetime  # when it happened (UTC); the period it counts for is its day in Vietnam
    added_at: datetime = Field(default_factory=utcnow)


class Change(SQLModel, table=True):
    """Who changed a plan or task and when: the only trace of a person this plugin keeps."""

    __tablename__ = "kehoach_change"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="kehoach_plan.id", index=True)
    task_id: int | None = Field(default=None, foreign_key="kehoach_task.id", index=True)
    changed_by_id: int | None = Field(default=None, foreign_key="core_user.id", index=True)
    changed_at: datetime = Field(default_factory=utcnow)
    what: str = Field(max_length=500)
