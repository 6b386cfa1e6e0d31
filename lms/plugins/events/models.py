"""Events, the courses they enrol attendees in, and registrations (tickets)."""

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from lms.db import utcnow

KINDS = {
    "le-phat-dong": "Lễ phát động",
    "tap-huan": "Tập huấn",
    "hoi-nghi": "Hội nghị",
    "toa-dam": "Tọa đàm",
    "khac": "Sự kiện khác",
}


class Event(SQLModel, table=True):
    __tablename__ = "events_event"

    id: int | None = Field(default=None, primary_key=True)
    # Short, public, printed on posters: /e/<code>.
    code: str = Field(max_length=8, unique=True)
    commune_id: int = Field(foreign_key="core_place.id", index=True)
    title: str = Field(max_length=200)
    kind: str = Field(max_length=16)
    village_id: int | None = Field(default=None, foreign_key="core_place.id")
    place_text: str = Field(default="", max_length=200)
    starts_at: datetime
    ends_at: datetime
    capacity: int | None = Field(default=None)
    registration_opens_at: datetime | None = Field(default=None)
    registration_closes_at: datetime | None = Field(default=None)
    created_by_id: int | None = Field(default=None, foreign_key="core_user.id")
    created_at: datetime = Field(default_factory=utcnow)


class EventCourse(SQLModel, table=True):
    """A course attendees are enrolled in when they register."""

    __tablename__ = "events_event_course"

    event_id: int = Field(foreign_key="events_event.id", primary_key=True)
    course_id: int = Field(foreign_key="courses_course.id", primary_key=True)


class Registration(SQLModel, table=True):
    __tablename__ = "events_registration"
    __table_args__ = (UniqueConstraint("event_id", "phone"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="events_event.id", index=True)
    user_id: int = Field(foreign_key="core_user.id", index=True)
    # The ticket's bearer token (192 random bits). Kept readable because a second
    # registration with the same phone must lead back to the same ticket.
    token: str = Field(max_length=64, unique=True)
    phone: str | None = Field(default=None, max_length=10)
    full_name: str = Field(max_length=100)
    name_folded: str = Field(default="", max_length=100)
    village_id: int | None = Field(default=None, foreign_key="core_place.id")
    audience: str | None = Field(default=None, max_length=16)
    # From the form: a double tap or a resubmission finds the registration it made.
    idempotency_key: str | None = Field(default=None, max_length=64, unique=True)
    registered_at: datetime = Field(default_factory=utcnow, index=True)  # counted live by the statistics
    registered_by_id: int | None = Field(default=None, foreign_key="core_user.id")
    checked_in_at: datetime | None = Field(default=None, index=True)
    checked_in_by_id: int | None = Field(default=None, foreign_key="core_user.id")
    checkin_nonce: str | None = Field(default=None, max_length=64)
