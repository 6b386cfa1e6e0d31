"""Two accounts of one person become one: event registrations (tickets) move to the kept account.

A ticket keeps its token, so a printed or saved ticket still opens; registrations for the same
event from both accounts (made with two phone numbers) both stay: each is a real ticket."""

from sqlalchemy import func, select, update
from sqlmodel import Session

from lms.core.models import Place, User
from lms.hookspecs import hookimpl
from lms.merging import MergeItem
from lms.plugins.events.models import Event, Registration


@hookimpl
def merge_accounts(db: Session, keep: User, drop: User, apply: bool) -> list[MergeItem]:
    count = db.exec(select(func.count()).select_from(Registration)
                    .where(Registration.user_id == drop.id)).scalar() or 0
    if apply and count:
        db.execute(update(Registration).where(Registration.user_id == drop.id).values(user_id=keep.id))
    return [MergeItem("Vé sự kiện", count)]


@hookimpl
def merge_villages(db: Session, keep: Place, drop: Place, apply: bool) -> list[MergeItem]:
    items = []
    for model, label in ((Event, "Sự kiện tổ chức tại thôn"), (Registration, "Người đăng ký sự kiện")):
        count = db.exec(select(func.count()).select_from(model).where(model.village_id == drop.id)).scalar() or 0
        if apply and count:
            db.execute(update(model).where(model.village_id == drop.id).values(village_id=keep.id))
        if count:
            items.append(MergeItem(label, count))
    return items
