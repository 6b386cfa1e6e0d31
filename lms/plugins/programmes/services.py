"""Mức phổ cập kỹ năng số cơ bản, as an installation defines it: for each audience, a set of
courses; a learner who completes all of them has reached the level. The official assessment is
the state's (Decision 757/QĐ-BKHCN, confirmed on VNeID); this is the commune's own record."""

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlmodel import Session

from lms.context import Context
from lms.core.models import User
from lms.core.services import AUDIENCES
from lms.db import insert_ignore, utcnow
from lms.errors import NotFound, ServiceError
from lms.events import record
from lms.plugins.courses import services as courses
from lms.plugins.programmes.events import LevelReached
from lms.plugins.programmes.models import ProgrammeCompletion, ProgrammeCourse

# Without 0/O and 1/I/L: read aloud or typed from paper without mistakes.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LEVEL = "Hoàn thành mức phổ cập kỹ năng số cơ bản"


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(12))


def display_code(code: str) -> str:
    return "PC-" + "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def normalize_code(typed: str) -> str | None:
    raw = "".join(ch for ch in (typed or "").upper() if ch.isalnum()).removeprefix("PC")
    return raw if len(raw) == 12 and all(ch in ALPHABET for ch in raw) else None


def required(db: Session) -> dict[str, list[int]]:
    """audience → the ids of its courses (only audiences that have a set)."""
    found: dict[str, list[int]] = {}
    for row in db.exec(select(ProgrammeCourse).order_by(ProgrammeCourse.course_id)).scalars().all():
        found.setdefault(row.audience, []).append(row.course_id)
    return found


def _record(db: Session, user_id: int, audience: str, completed_at: datetime) -> bool:
    person = db.get(User, user_id)
    if person is None:
        return False
    made = insert_ignore(db, ProgrammeCompletion, {
        "user_id": user_id, "audience": audience, "code": new_code(), "learner_name": person.full_name,
        "commune_id": person.commune_id, "completed_at": completed_at, "recorded_at": utcnow(),
    }, ["user_id", "audience"])
    if made:
        record(db, LevelReached(user_id=user_id, audience=audience))
    return made


def check_learner(db: Session, *, user_id: int) -> bool:
    """After a course is completed: has this learner now completed their audience's set?"""
    person = db.get(User, user_id)
    if person is None or person.audience is None:
        return False
    wanted = required(db).get(person.audience)
    if not wanted:
        return False
    done = courses.completed_course_ids(db, user_id=user_id)
    if not set(wanted) <= done:
        return False
    return _record(db, user_id, person.audience, utcnow())


def set_courses(ctx: Context, *, actor: User, audience: str, course_ids: list[int]) -> int:
    """The courses of one audience's level; learners who already completed all of them reach it
    now (dated by their last course). Returns how many reached it."""
    if actor.role != "admin":
        raise ServiceError("forbidden", "Chỉ quản trị viên đặt các khóa học của mức phổ cập.", 403)
    if audience not in AUDIENCES:
        raise NotFound()
    with ctx.transaction() as db:
        known = {c.id for c in courses.Catalog().refresh(db).courses if c.commune_id is None}
        chosen = sorted({i for i in course_ids if i in known})
        db.execute(delete(ProgrammeCourse).where(ProgrammeCourse.audience == audience))
        for course_id in chosen:
            db.add(ProgrammeCourse(audience=audience, course_id=course_id, set_by_id=actor.id))
        db.flush()
        return sum(_record(db, user_id, audience, when)
                   for user_id, when in courses.learners_who_completed_all(db, course_ids=chosen,
                                                                          audience=audience))


@dataclass
class Standing:
    """Where one learner stands: the set of their audience, what is done, and the record."""

    audience_label: str
    course_titles: list[tuple[str, str, bool]]  # slug, title, done
    completion: ProgrammeCompletion | None


def standing(db: Session, catalog: Any, user: User) -> Standing | None:
    if user.audience is None:
        return None
    wanted = required(db).get(user.audience)
    completion = db.exec(select(ProgrammeCompletion).where(
        ProgrammeCompletion.user_id == user.id, ProgrammeCompletion.audience == user.audience)).scalars().first()
    if not wanted and completion is None:
        return None
    done = courses.completed_course_ids(db, user_id=user.id)
    titles = [(c.slug, c.title, c.id in done) for c in catalog.courses if c.id in set(wanted or [])]
    return Standing(AUDIENCES[user.audience], titles, completion)


def find(db: Session, typed: str) -> ProgrammeCompletion | None:
    code = normalize_code(typed)
    if code is None:
        return None
    return db.exec(select(ProgrammeCompletion).where(ProgrammeCompletion.code == code)).scalars().first()
