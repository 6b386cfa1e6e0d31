"""The assistant's reviewed answers (FAQ entries), the passages it searches (entries and lesson
sections), and the BM25 index over their folded words, the same tables on SQLite and PostgreSQL."""

from datetime import date, datetime

from sqlalchemy import JSON, Column, Index, LargeBinary, Text
from sqlmodel import Field, SQLModel

from lms.db import utcnow


class FaqEntry(SQLModel, table=True):
    __tablename__ = "hoidap_entry"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True)
    topic: str = Field(max_length=60)
    topic_title: str = Field(max_length=200)
    question: str = Field(max_length=300)
    also_asked: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    answer_md: str = Field(sa_column=Column(Text, nullable=False))
    answer_html: str = Field(sa_column=Column(Text, nullable=False))
    sources: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    see_also: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    reviewed: date
    # None: the installation's pack; a commune: that commune's own entry, seen by its people.
    commune_id: int | None = Field(default=None, foreign_key="core_place.id", index=True)
    origin: str = Field(default="pack", max_length=10)  # "pack" (lms hoi-dap sync) or "editor"
    retired: bool = Field(default=False)
    updated_at: datetime = Field(default_factory=utcnow)


class Passage(SQLModel, table=True):
    """One answer the assistant can give: a FAQ entry, or a section of a lesson."""

    __tablename__ = "hoidap_passage"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)  # "faq" or "lesson"
    url: str = Field(max_length=300)  # /hoi-dap/<slug> or /courses/<c>/<l>#<section>
    title: str = Field(max_length=300)  # the question, or the lesson's title
    section: str = Field(default="", max_length=300)  # the heading within the lesson
    group: str = Field(default="", max_length=200)  # the FAQ topic, or the course
    snippet: str = Field(sa_column=Column(Text, nullable=False))  # plain text shown with the link
    reviewed: date | None = None
    commune_id: int | None = Field(default=None, index=True)
    length: int = Field(default=0)  # weighted words, for BM25's length normalisation
    text_hash: str = Field(default="", max_length=64)  # what the semantic ranker embedded (Embedding)


class Embedding(SQLModel, table=True):
    """A passage's vector from the optional semantic ranker, kept by the text it was made from,
    so a rebuild embeds only what changed."""

    __tablename__ = "hoidap_embedding"

    text_hash: str = Field(max_length=64, primary_key=True)
    vector: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # float32, normalised


class Posting(SQLModel, table=True):
    """How often a folded word (or two adjacent ones, "dang_ky") occurs in a passage."""

    __tablename__ = "hoidap_posting"
    __table_args__ = (Index("ix_hoidap_posting_term", "term", "passage_id"),)

    id: int | None = Field(default=None, primary_key=True)
    term: str = Field(max_length=80)
    passage_id: int = Field(foreign_key="hoidap_passage.id")
    tf: float


class Word(SQLModel, table=True):
    """The index's vocabulary: the passages holding each term (IDF, and typo correction)."""

    __tablename__ = "hoidap_word"

    term: str = Field(max_length=80, primary_key=True)
    df: int


class IndexState(SQLModel, table=True):
    """One row: bumped by every rebuild, so each worker reloads its cached vocabulary."""

    __tablename__ = "hoidap_index_state"

    id: int = Field(default=1, primary_key=True)
    version: int = Field(default=0)
    passages: int = Field(default=0)
    average_length: float = Field(default=0.0)
    built_at: datetime = Field(default_factory=utcnow)


class Question(SQLModel, table=True):
    """A question the assistant could not answer, sent to the commune's team. No personal data
    but what the person chose to leave (a way to reach them, with their consent)."""

    __tablename__ = "hoidap_question"

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=32, unique=True)  # the asker's address to come back: /hoi-dap/cau-hoi/<token>
    text: str = Field(max_length=300)
    folded: str = Field(max_length=300, index=True)  # the same question asked twice groups
    commune_id: int | None = Field(default=None, foreign_key="core_place.id", index=True)
    asker_id: int | None = Field(default=None, foreign_key="core_user.id", index=True)
    contact: str = Field(default="", max_length=120)
    status: str = Field(default="open", max_length=10)  # open, answered
    answer: str = Field(default="", sa_column=Column(Text, nullable=False))
    answered_by_id: int | None = Field(default=None, foreign_key="core_user.id")
    answered_at: datetime | None = None
    entry_id: int | None = Field(default=None, foreign_key="hoidap_entry.id")  # promoted to the FAQ
    asked_at: datetime = Field(default_factory=utcnow, index=True)
