"""Two accounts of one person become one: a team's care and the printed log-in cards move.

A resident is in one team's care at a time: if both accounts are, the kept account's team
keeps them. Log-in cards keep working and now sign in to the kept account."""

from sqlalchemy import delete, func, select, update
from sqlmodel import Session

from lms.core.models import Place, User
from lms.hookspecs import hookimpl
from lms.merging import MergeItem
from lms.plugins.teams.models import AssistedResident, LoginCard, TeamVillage


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


@hookimpl
def merge_villages(db: Session, keep: Place, drop: Place, apply: bool) -> list[MergeItem]:
    teams = set(db.exec(select(TeamVillage.team_id).where(TeamVillage.village_id == drop.id)).scalars())
    if not teams:
        return []
    already = set(db.exec(select(TeamVillage.team_id).where(TeamVillage.village_id == keep.id)).scalars())
    if apply:
        # A team that looked after both keeps one row for the merged village.
        db.execute(delete(TeamVillage).where(TeamVillage.village_id == drop.id, TeamVillage.team_id.in_(already)))
        db.execute(update(TeamVillage).where(TeamVillage.village_id == drop.id).values(village_id=keep.id))
    note = f"{len(teams & already)} tổ đã phụ trách cả hai thôn" if teams & already else ""
    return [MergeItem("Tổ công nghệ số phụ trách thôn", len(teams), note)]
