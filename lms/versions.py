"""Versions of what pages keep in memory (the villages of a commune, say), so that each worker
and host reads the data again only after it changed.

A table is tracked under a name; any transaction that adds, changes or deletes one of its rows
through a session (objects, or update()/delete() statements) gives the name a new random
version in the same transaction. A reader compares the version (one primary-key read) with
the one its copy was made at. Random, not counted: a database emptied and filled again never
meets an old copy's version by chance. A name without a version row is never cached."""

import secrets
import threading
from collections.abc import Callable, Hashable
from typing import Any

from sqlalchemy import bindparam, event, select, update
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from lms.db import insert_ignore


class ContentVersion(SQLModel, table=True):
    __tablename__ = "core_content_version"

    name: str = Field(primary_key=True, max_length=40)
    version: int = Field(default=0)


_tracked: dict[type, str] = {}
_copies: dict[tuple[str, str, Hashable], tuple[int, Any]] = {}
_copies_guard = threading.Lock()


def track(model: type, name: str) -> None:
    """Give `name` a new version whenever a row of `model` changes."""
    _tracked[model] = name


def bump(db: Session, name: str) -> None:
    """A new version for `name`, in the caller's transaction (for changes made without the ORM)."""
    version = secrets.randbits(31)
    table = ContentVersion.__table__
    changed = db.connection().execute(update(table).where(table.c.name == name).values(version=version))
    if not changed.rowcount:
        insert_ignore(db, ContentVersion, {"name": name, "version": version}, ["name"])


@event.listens_for(Session, "after_flush")
def _bump_changed(db: Session, _context: Any) -> None:
    if not _tracked:
        return
    names = {_tracked[type(row)] for row in (*db.new, *db.dirty, *db.deleted) if type(row) in _tracked}
    for name in sorted(names):
        bump(db, name)


@event.listens_for(Session, "do_orm_execute")
def _bump_bulk_changed(state: Any) -> None:
    # update(Place)…, delete(Place)… run through a session skip the flush.
    if (state.is_update or state.is_delete or state.is_insert) and state.bind_mapper is not None:
        name = _tracked.get(state.bind_mapper.class_)
        if name is not None:
            bump(state.session, name)


_VERSION_OF = select(ContentVersion.version).where(ContentVersion.name == bindparam("name"))  # built once


def cached(db: Session, name: str, key: Hashable, compute: Callable[[], Any]) -> Any:
    """`compute()`, or the copy made at the current version of `name`. The copy is shared by every
    request of this worker: it must not be changed, and should hold plain values, not rows."""
    version = db.execute(_VERSION_OF, {"name": name}).scalar()
    if version is None:
        return compute()
    slot = (str(db.get_bind().url), name, key)
    copy = _copies.get(slot)
    if copy is not None and copy[0] == version:
        return copy[1]
    # The version is read before the data, so a copy is never older than the version it is kept at.
    value = compute()
    with _copies_guard:
        _copies[slot] = (version, value)
    return value
