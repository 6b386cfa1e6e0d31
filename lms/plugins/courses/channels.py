"""The courses the commune's channels announce (feeds, widget, hall screen) and offer as a plan
task's evidence."""

from typing import Any

from sqlalchemy import or_, select
from sqlmodel import Session

from lms.channels import ChannelItem, EvidenceChoice
from lms.plugins.courses.models import BulletinMade, Course
from lms.templating import local


def _listed(commune_id: int | None) -> Any:
    statement = select(Course).where(Course.retired.is_(False))
    if commune_id is not None:
        statement = statement.where(or_(Course.commune_id.is_(None), Course.commune_id == commune_id))
    return statement.order_by(Course.synced_at.desc(), Course.id.desc())


def channel_items(db: Session, commune_id: int | None, limit: int) -> list[ChannelItem]:
    # synced_at moves only when a course's content changes (a sync skips unchanged packs).
    return [ChannelItem(kind="course", key=f"khoa-hoc:{course.slug}", title=course.title, summary=course.summary,
                        url=f"/courses/{course.slug}", published=course.synced_at, updated=course.synced_at,
                        commune_id=course.commune_id)
            for course in db.execute(_listed(commune_id).limit(limit)).scalars()]


def evidence_choices(db: Session, user: Any) -> list[EvidenceChoice]:
    """The courses the commune wrote and published and the loudspeaker bulletins it made (for an
    administrator, every course and bulletin)."""
    if user.role != "admin" and user.commune_id is None:
        return []
    courses = select(Course).where(Course.retired.is_(False))
    bulletins = select(BulletinMade)
    if user.role != "admin":
        courses = courses.where(Course.commune_id == user.commune_id)
        bulletins = bulletins.where(BulletinMade.commune_id == user.commune_id)
    choices = [EvidenceChoice(key=f"khoa-hoc:{course.slug}", group="Khóa học đã đăng", title=course.title,
                              url=f"/courses/{course.slug}", at=course.synced_at, commune_id=course.commune_id)
               for course in db.execute(courses.order_by(Course.synced_at.desc()).limit(200)).scalars()]
    for bulletin in db.execute(bulletins.order_by(BulletinMade.made_at.desc()).limit(200)).scalars():
        items = "; ".join(bulletin.titles[:3]) + ("…" if len(bulletin.titles) > 3 else "")
        choices.append(EvidenceChoice(
            key=f"ban-tin:{bulletin.id}", group="Bản tin truyền thanh đã làm",
            title=f"Bản tin ngày {local(bulletin.made_at):%d/%m/%Y} ({len(bulletin.titles)} mục: {items})",
            url=f"/studio-bulletin/da-lam#ban-tin-{bulletin.id}", at=bulletin.made_at, commune_id=bulletin.commune_id))
    return choices
