"""Tables of the courses plugin: courses, lessons, enrolments, lesson progress, and the drafts,
versions and change log of courses written in the browser."""

from datetime import datetime

from sqlalchemy import JSON, Column, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from lms.db import utcnow


class Course(SQLModel, table=True):
    __tablename__ = "courses_course"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True)
    title: str = Field(max_length=200)
    summary: str = Field(sa_column=Column(Text, nullable=False))
    audiences: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    domains: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    prerequisites: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    estimated_minutes: int = Field(default=0)
    version: int = Field(default=1)
    position: int = Field(default=0)
    # The quiz as written in quiz.yaml; the quiz plugin reads it through services.
    quiz: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    content_hash: str = Field(default="", max_length=64)
    retired: bool = Field(default=False)
    synced_at: datetime = Field(default_factory=utcnow)
    # Empty: a course of the whole installation; else only that commune's people see it.
    commune_id: int | None = Field(default=None, foreign_key="core_place.id", index=True)
    # "pack": loaded from a folder by `lms courses sync`; "editor": published from the browser.
    source: str = Field(default="pack", max_length=16)
    # The name of one of its assets shown on the course's card, if any.
    cover: str | None = Field(default=None, max_length=120)


class Lesson(SQLModel, table=True):
    __tablename__ = "courses_lesson"
    __table_args__ = (UniqueConstraint("course_id", "slug"),)

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="courses_course.id", index=True)
    slug: str = Field(max_length=80)
    title: str = Field(max_length=200)
    position: int = Field(default=0)
    body_md: str = Field(sa_column=Column(Text, nullable=False))
    # Rendered and sanitised once at sync, so a page view does no Markdown work.
    body_html: str = Field(sa_column=Column(Text, nullable=False))
    excerpt: str = Field(default="", max_length=300)
    word_count: int = Field(default=0)
    content_hash: str = Field(default="", max_length=64)
    # Decision 757/QĐ-BKHCN codes this lesson teaches (757:<group>[:<skill>]).
    competences: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # A lesson dropped from its pack is retired, never deleted: progress stays.
    retired: bool = Field(default=False)
    updated_at: datetime = Field(default_factory=utcnow)


class Enrolment(SQLModel, table=True):
    __tablename__ = "courses_enrolment"
    __table_args__ = (UniqueConstraint("user_id", "course_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="core_user.id", index=True)
    course_id: int = Field(foreign_key="courses_course.id", index=True)
    enrolled_at: datetime = Field(default_factory=utcnow)
    # Who enrolled the learner when it was not themselves (a team member, an event).
    enrolled_by_id: int | None = Field(default=None, foreign_key="core_user.id")
    last_activity_at: datetime = Field(default_factory=utcnow)
    lessons_completed_at: datetime | None = Field(default=None)
    completed_at: datetime | None = Field(default=None, index=True)


class LessonProgress(SQLModel, table=True):
    __tablename__ = "courses_lesson_progress"
    __table_args__ = (UniqueConstraint("user_id", "lesson_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="core_user.id", index=True)
    lesson_id: int = Field(foreign_key="courses_lesson.id", index=True)
    course_id: int = Field(foreign_key="courses_course.id", index=True)
    completed_at: datetime = Field(default_factory=utcnow, index=True)
    # Set when a team member confirmed learning done in person.
    confirmed_by_id: int | None = Field(default=None, foreign_key="core_user.id")


class CatalogState(SQLModel, table=True):
    """One row whose version rises with every sync that changed something;
    workers compare it to drop their cached outlines."""

    __tablename__ = "courses_catalog_state"

    id: int = Field(default=1, primary_key=True)
    version: int = Field(default=0)


class CourseAsset(SQLModel, table=True):
    """An image of a pack, kept in the database so every host serves the same bytes."""

    __tablename__ = "courses_asset"
    __table_args__ = (UniqueConstraint("course_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="courses_course.id", index=True)
    name: str = Field(max_length=120)
    digest: str = Field(max_length=16)
    media_type: str = Field(max_length=40)
    width: int = Field(default=0)
    height: int = Field(default=0)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class CourseDraft(SQLModel, table=True):
    """A course written in the browser: its files in the pack format (course.yaml, lessons,
    quiz.yaml), so checking, publishing, export and import share the packs' code."""

    __tablename__ = "courses_draft"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True)
    commune_id: int | None = Field(default=None, foreign_key="core_place.id", index=True)
    # {file name: text}; images are in `assets` as {file name: base64}.
    files: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    assets: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Set once published: the Course learners see.
    course_id: int | None = Field(default=None, foreign_key="courses_course.id")
    published_version: int = Field(default=0)
    # The draft differs from what learners see.
    changed: bool = Field(default=True)
    created_by_id: int | None = Field(default=None, foreign_key="core_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class CourseRevision(SQLModel, table=True):
    """A published version of a draft, kept whole so it can be restored."""

    __tablename__ = "courses_revision"
    __table_args__ = (UniqueConstraint("draft_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    draft_id: int = Field(foreign_key="courses_draft.id", index=True)
    version: int
    files: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    assets: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    published_by_id: int | None = Field(default=None, foreign_key="core_user.id")
    published_at: datetime = Field(default_factory=utcnow)


class CourseChange(SQLModel, table=True):
    """The change log of a draft: who did what, when."""

    __tablename__ = "courses_change"

    id: int | None = Field(default=None, primary_key=True)
    draft_id: int = Field(foreign_key="courses_draft.id", index=True)
    actor_id: int | None = Field(default=None, foreign_key="core_user.id")
    at: datetime = Field(default_factory=utcnow)
    summary: str = Field(max_length=300)


class ContentEditor(SQLModel, table=True):
    """A staff member an administrator allowed to write their commune's courses."""

    __tablename__ = "courses_editor"

    user_id: int = Field(foreign_key="core_user.id", primary_key=True)
    granted_by_id: int | None = Field(default=None, foreign_key="core_user.id")
    granted_at: datetime = Field(default_factory=utcnow)


class LessonRecording(SQLModel, table=True):
    """A person's recording of a lesson, uploaded by staff; one per lesson. The bytes are in the
    media store (core_media), named by `media_key`."""

    __tablename__ = "courses_lesson_recording"

    lesson_id: int = Field(foreign_key="courses_lesson.id", primary_key=True)
    media_key: str = Field(max_length=64)
    content_type: str = Field(max_length=40)
    size: int
    duration_ms: int
    # Shown on the lesson as "ghi âm bởi …": the uploader's name or one typed in the form.
    speaker_name: str = Field(default="", max_length=120)
    uploaded_by_id: int | None = Field(default=None, foreign_key="core_user.id", index=True)
    # The lesson's content when recorded: the editor is told when the text changed since.
    lesson_hash: str = Field(default="", max_length=64)
    converted: bool = Field(default=False)
    uploaded_at: datetime = Field(default_factory=utcnow)


class LessonSpeech(SQLModel, table=True):
    """The machine voice of one version of a lesson. The row is claimed before generating, so
    two workers never make the same audio twice; `media_key` is empty until it is made."""

    __tablename__ = "courses_lesson_speech"
    __table_args__ = (UniqueConstraint("lesson_id", "content_hash", "voice", "rules"),)

    id: int | None = Field(default=None, primary_key=True)
    lesson_id: int = Field(foreign_key="courses_lesson.id", index=True)
    content_hash: str = Field(max_length=64)
    voice: str = Field(max_length=40)
    # speech.RULES_VERSION: new rules for words make the audio again.
    rules: str = Field(max_length=16)
    media_key: str | None = Field(default=None, max_length=64)
    size: int = Field(default=0)
    duration_ms: int = Field(default=0)
    claim: str = Field(default="", max_length=32)
    claimed_at: datetime = Field(default_factory=utcnow)
    generated_at: datetime | None = Field(default=None)
    generate_ms: int = Field(default=0)


class BulletinMade(SQLModel, table=True):
    """A loudspeaker bulletin staff made (plan §II.2.1, weekly): kept as what the commune did,
    for the plan's follow-up. The audio itself is not kept."""

    __tablename__ = "courses_bulletin"

    id: int | None = Field(default=None, primary_key=True)
    commune_id: int | None = Field(default=None, foreign_key="core_place.id", index=True)
    made_by_id: int | None = Field(default=None, foreign_key="core_user.id", index=True)
    made_at: datetime = Field(default_factory=utcnow, index=True)
    titles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    seconds: int = Field(default=0)
