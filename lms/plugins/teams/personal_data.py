"""The teams plugin's part of a person's data: team membership, care by a team, log-in cards."""

from typing import Any

from sqlalchemy import delete, select
from sqlmodel import Session

from lms.hookspecs import hookimpl
from lms.personal_data import DataSection, ErasureNote, as_rows
from lms.plugins.teams.models import AssistedResident, LoginCard, Team, TeamMember


@hookimpl
def personal_data_export(db: Session, user: Any) -> list[DataSection]:
    names = dict(db.exec(select(Team.id, Team.name)).all())
    members = db.exec(select(TeamMember).where(TeamMember.user_id == user.id)).scalars().all()
    care = db.exec(select(AssistedResident).where(AssistedResident.user_id == user.id)).scalars().all()
    cards = db.exec(select(LoginCard).where(LoginCard.user_id == user.id)).scalars().all()
    return [
        DataSection("teams_member", "Thành viên tổ công nghệ số", [
            {"Tổ": names.get(m.team_id, ""), **row} for m, row in zip(members, as_rows(members, {"Từ": "added_at"}),
                                                                       strict=True)]),
        DataSection("teams_assisted_resident", "Được tổ công nghệ số hỗ trợ", [
            {"Tổ": names.get(c.team_id, ""), **row} for c, row in zip(care, as_rows(care, {
                "Người ghi danh giúp (mã)": "registered_by_id", "Lúc": "registered_at"}), strict=True)]),
        DataSection("teams_login_card", "Thẻ đăng nhập đã in", as_rows(cards, {
            "In lúc": "created_at", "Thu hồi lúc": "revoked_at"})),
    ]


@hookimpl
def personal_data_erase(db: Session, user: Any, actor: Any) -> list[ErasureNote]:
    members = db.execute(delete(TeamMember).where(TeamMember.user_id == user.id)).rowcount or 0
    cards = db.execute(delete(LoginCard).where(LoginCard.user_id == user.id)).rowcount or 0
    care = len(db.exec(select(AssistedResident.user_id).where(AssistedResident.user_id == user.id)).all())
    return [ErasureNote("teams_member", "deleted", members), ErasureNote("teams_login_card", "deleted", cards),
            ErasureNote("teams_assisted_resident", "kept", care,
                        "Giữ việc tổ đã hỗ trợ (không kèm tên, số điện thoại) cho số liệu của tổ.")]
