"""News items: written by staff, published for one commune or the whole installation."""

from datetime import datetime

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

from lms.db import utcnow


class NewsItem(SQLModel, table=True):
    __tablename__ = "tintuc_item"
    __table_args__ = (Index("ix_tintuc_item_listing", "status", "published_at"),)

    id: int | None = Field(default=None, primary_key=True)
    # None: news of the whole installation (the city's, written by an administrator).
    commune_id: int | None = Field(default=None, foreign_key="core_place.id", index=True)
    title: str = Field(max_length=200)
    summary: str = Field(default="", max_length=300)
    body_md: str = Field(sa_column=Column(Text, nullable=False))
    body_html: str = Field(sa_column=Column(Text, nullable=False))
    # lms.media.StoredImage.to_dict(): every width, and the alt text.
    image: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # A course or event the item points to, as offered by the channels when it was saved:
    # its key, and its title and path kept so the link still reads if the source changes.
    link_key: str | None = Field(default=None, max_length=80)
    link_title: str = Field(default="", max_length=200)
    link_url: str = Field(default="", max_length=300)
    status: str = Field(default="draft", max_length=16)  # draft | published
    published_at: datetime | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    created_by_id: int | None = Field(default=None, foreign_key="core_user.id", index=True)
    updated_by_id: int | None = Field(default=None, foreign_key="core_user.id")
