"""What the first-run guide's check page asks of teams: a community digital technology team in
every commune (worth doing, not needed to start)."""

from sqlalchemy import select
from sqlmodel import Session

from lms.core.models import Place
from lms.plugins.teams.models import Team
from lms.setup_checks import SetupCheck

SHOWN_NAMES = 5


def setup_checks(db: Session) -> list[SetupCheck]:
    with_team = set(db.execute(select(Team.commune_id).distinct()).scalars())
    communes = db.execute(select(Place.name, Place.id).where(Place.kind == "commune", Place.active.is_(True))
                          .order_by(Place.name)).all()
    without = [name for name, commune_id in communes if commune_id not in with_team]
    if not communes:
        return []
    if without:
        more = len(without) - SHOWN_NAMES
        names = ", ".join(without[:SHOWN_NAMES]) + (f" và {more} nơi khác" if more > 0 else "")
        return [SetupCheck("Xã, phường chưa có tổ công nghệ số cộng đồng", False,
                           f"{names}. Tổ giúp người dân ở thôn học và cài ứng dụng.", "/teams",
                           "Lập tổ", advice=True, order=70)]
    return [SetupCheck("Mỗi xã, phường đã có tổ công nghệ số cộng đồng", True, order=70)]
