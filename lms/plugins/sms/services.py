"""The development outbox: keep a message, and list the messages a viewer may read."""

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlmodel import Session

from lms.context import Context
from lms.core.models import User
from lms.db import utcnow
from lms.plugins.sms.models import SmsMessage

KEEP_DAYS = 7
# Staff read the codes of the people they help, never those of staff or admins.
STAFF_SEES_ROLES = ("learner", "team_member")


def keep_message(ctx: Context, *, phone: str, text: str) -> None:
    with ctx.transaction() as db:
        db.add(SmsMessage(phone=phone, text=text[:1000]))
        # Codes are short-lived: the table keeps a week, no more.
        db.execute(delete(SmsMessage).where(SmsMessage.created_at < utcnow() - timedelta(days=KEEP_DAYS)))


def messages_for(db: Session, viewer: Any, *, limit: int = 100) -> list[tuple[SmsMessage, str | None]]:
    """Newest first, with the name of the phone's owner: everything for an admin, for staff the
    messages to learners and team members of their commune."""
    query = select(SmsMessage, User.full_name).join(User, User.phone == SmsMessage.phone, isouter=True)
    if viewer.role != "admin":
        if viewer.commune_id is None:
            return []
        query = query.where(User.commune_id == viewer.commune_id, User.role.in_(STAFF_SEES_ROLES))
    rows = db.execute(query.order_by(SmsMessage.created_at.desc(), SmsMessage.id.desc()).limit(limit)).all()
    return [(message, name) for message, name in rows]
