"""Exemplary local models: what a person or unit submitted, its review state, and every
transition with who made it and when."""

from datetime import datetime

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

from lms.db import utcnow


class ExemplaryModel(SQLModel, table=True):
    """One model of digital transformation or innovation, of one commune.

    What the public sees is limited by the submitter's consent: photos only with `show_photos`,
    the contact only with `show_contact`; reviewers see everything."""

    __tablename__ = "mohinh_model"
    __table_args__ = (Index("ix_mohinh_model_listing", "status", "published_at"),)

    id: int | None = Field(default=None, primary_key=True)
    # Given at the first publication and never changed: the public address stays valid.
    slug: str | None = Field(default=None, max_length=120, unique=True)
    commune_id: int = Field(foreign_key="core_place.id", index=True)
    title: str = Field(max_length=200)
    unit: str = Field(max_length=200)  # the organisation or person the model belongs to
    sector: str = Field(max_length=20)  # the field (lĩnh vực): a key of services.SECTORS
    description_md: str = Field(sa_column=Column(Text, nullable=False))
    description_html: str = Field(sa_column=Column(Text, nullable=False))
    results_md: str = Field(sa_column=Column(Text, nullable=False))
    results_html: str = Field(sa_column=Column(Text, nullable=False))
    # lms.media.StoredImage.to_dict() of each photo, at most services.MAX_PHOTOS.
    photos: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    contact_name: str = Field(default="", max_length=100)
    contact_phone: str = Field(default="", max_length=10)
    contact_email: str = Field(default="", max_length=120)
    show_photos: bool = Field(default=False)
    show_contact: bool = Field(default=False)
    rights_confirmed: bool = Field(default=False)
    # submitted | changes_requested | published | declined | unpublished
    status: str = Field(default="submitted", max_length=20)
    review_note: str = Field(default="", sa_column=Column(Text, nullable=False))
    submitter_id: int | None = Field(default=None, foreign_key="core_user.id", index=True)
    # Made on the phone with the form: the same form sent twice makes one model.
    submit_key: str | None = Field(default=None, max_length=40, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # The first publication: the year of the compilation the model belongs to.
    published_at: datetime | None = Field(default=None)


class Transition(SQLModel, table=True):
    """A change of a model's state, with the note given (the changes asked for, a reason)."""

    __tablename__ = "mohinh_transition"

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="mohinh_model.id", index=True)
    from_status: str = Field(default="", max_length=20)  # "" for the submission itself
    to_status: str = Field(max_length=20)
    actor_id: int | None = Field(default=None, foreign_key="core_user.id", index=True)
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    at: datetime = Field(default_factory=utcnow)
