"""What the first-run guide's check page asks of teams: a community digital technology team in
every commune (worth doing, not needed to start)."""

from sqlalchemy import select
from sqlmodel import Session

from lms.core.models import Place
from lms.plugins.teams.models import Team
from lms.setup_checks import SetupCheck, some_names


def setup_checks(db: Session) -> list[SetupCheck]:
    with_team = set(db.execute(select(Team.commune_id).distinct()).scalars())
    communes = db.execute(select(Place.name, Place.id).where(Place.kind == "commune", Place.active.is_(True))
                          .order_by(Place.name)).all()
    without = [name for name, commune_id in communes if commune_id not in with_team]
    if not communes:
        return []
    if without:
        return [SetupCheck("Xã, phường chưa có tổ công nghệ số cộng đồng", False,
                           f"{some_names(without)}. Tổ giúp người dân ở thôn học và cài ứng dụng.", "/teams",
                           "Lập tổ", advice=True, order=70)]
    return [SetupCheck("Mỗi xã, phường đã có tổ công nghệ số cộng đồng", True, order=70)]
