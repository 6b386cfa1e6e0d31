"""A commune with a team, its member and staff, as the pages build them."""

from dataclasses import dataclass

from sqlalchemy import select

from lms.core.models import Place, User
from lms.plugins.teams.models import Team
from tests.factories import fresh, login, make_places, make_user, post_form


@dataclass
class Setup:
    places: object
    staff: User
    member: User
    team: Team


def team_setup(client, db, settings, make_client, *, villages=("Thôn Đông", "Thôn Đoài", "Thôn Bắc")):
    places = make_places(db, villages=villages)
    staff = make_user(db, settings, role="staff", commune=places.commune, name="Cán Bộ Xã")
    member = make_user(db, settings, village=places.villages[0], name="Đoàn Viên Thanh")
    login(client, staff.phone)
    response = post_form(client, "/teams", {"name": "Tổ công nghệ số thôn Đông",
                                            "villages": [str(places.villages[0].id), str(places.villages[1].id)]},
                         page="/teams")
    assert response.status_code == 303, response.text
    fresh(db)
    team = db.exec(select(Team)).scalars().one()
    added = post_form(client, f"/teams/{team.id}/members", {"phone": member.phone}, page=f"/teams/{team.id}")
    assert added.status_code == 303
    fresh(db)
    member = db.get(User, member.id)
    db.commit()
    return Setup(places, staff, member, team)


def village(db, name) -> Place:
    return db.exec(select(Place).where(Place.name == name)).scalars().one()
