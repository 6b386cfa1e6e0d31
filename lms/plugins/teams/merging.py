"""Two accounts of one person become one: a team's care and the printed log-in cards move.

A resident is in one team's care at a time: if both accounts are, the kept account's team
keeps them. Log-in cards keep working and now sign in to the kept account."""

from sqlalchemy import delete, func, select, update
from sqlmodel import Session

from lms.core.models import User
from lms.hookspecs import hookimpl
from lms.merging import MergeItem
from lms.plugins.teams.models import AssistedResident, LoginCard


@hookimpl
def merge_accounts(db: Session, keep: User, drop: User, apply: bool) -> list[MergeItem]:
    moving_care = db.get(AssistedResident, drop.id)
    kept_care = db.get(AssistedResident, keep.id)
    cards = db.exec(select(func.count()).select_from(LoginCard).where(
        LoginCard.user_id == drop.id, LoginCard.revoked_at.is_(None))).scalar() or 0
    if apply:
        if moving_care is not None:
            db.execute(delete(AssistedResident).where(AssistedResident.user_id == drop.id))
            if kept_care is None:
                db.add(AssistedResident(user_id=keep.id, team_id=moving_care.team_id,
                                        registered_by_id=moving_care.registered_by_id,
                                        registered_at=moving_care.registered_at))
        db.execute(update(LoginCard).where(LoginCard.user_id == drop.id).values(user_id=keep.id))
    items = [MergeItem("Thẻ đăng nhập (mã QR) đang dùng", cards)]
    if moving_care is not None:
        items.append(MergeItem("Được tổ công nghệ số hỗ trợ", 1,
                               "tài khoản được giữ đã có tổ hỗ trợ: giữ tổ đó" if kept_care else ""))
    return items
