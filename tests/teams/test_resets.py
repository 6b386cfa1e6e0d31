"""Team members reset their residents' passwords with a printed card; admins create teams too."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.core.models import PasswordLink, User
from lms.core.services import LINK_GONE, password_context
from lms.plugins.teams.models import LoginCard, Team
from tests.core.test_staff_accounts import NEW_PASSWORD, qr_texts
from tests.factories import PASSWORD, fresh, login, make_places, make_user, post_form, text_of
from tests.teams.teamtools import team_setup


def _links(db) -> int:
    fresh(db)
    count = db.exec(select(func.count()).select_from(PasswordLink)).one()[0]
    db.commit()
    return count


def _people(db, settings, setup):
    village = setup.places.villages[0]
    resident = make_user(db, settings, village=village, name="Bà Nguyễn Thị Tư")
    return resident


def _member_browser(make_client, setup):
    browser = make_client()
    login(browser, setup.member.phone)
    return browser


def _page(setup, person):
    return f"/teams/{setup.team.id}/residents/{person.id}"


def test_member_resets_a_residents_password_with_a_printed_card(client, db, settings, make_client):
    setup = team_setup(client, db, settings, make_client)
    resident = _people(db, settings, setup)
    their_phone = make_client()
    login(their_phone, resident.phone)
    browser = _member_browser(make_client, setup)
    page = browser.get(_page(setup, resident)).text
    assert "In thẻ đặt lại mật khẩu" in page
    assert 'name="with_reset" value="1">' in page  # has a password: not ticked by default
    card = post_form(browser, f"{_page(setup, resident)}/reset", {}, page=_page(setup, resident))
    assert card.status_code == 200 and card.headers["cache-control"] == "no-store"
    visible = text_of(card.text)
    assert "ĐẶT MẬT KHẨU" in visible and "Bà Nguyễn Thị Tư" in visible and "Chỉ dùng được một lần" in visible
    [url] = qr_texts(card.text)  # the reset QR only; the login card is not reprinted
    assert url.startswith(f"{settings.base_url}/password/")
    token = url.rsplit("/", 1)[1]
    assert token not in card.text  # on the card as a QR only, like the login card
    fresh(db)
    link = db.exec(select(PasswordLink)).scalars().one()
    db.commit()
    assert link.purpose == "reset" and link.created_by_id == setup.member.id and link.user_id == resident.id
    assert timedelta(hours=71, minutes=59) < link.expires_at - link.created_at <= timedelta(hours=72)

    phone = make_client()
    done = post_form(phone, f"/password/{token}", {"new": NEW_PASSWORD, "confirm": NEW_PASSWORD},
                     page=f"/password/{token}")
    assert done.status_code == 303 and "Bà Nguyễn Thị Tư" in text_of(phone.get("/account").text)
    assert their_phone.get("/account").status_code == 303  # old sessions ended
    login(make_client(), resident.phone, NEW_PASSWORD)
    gone = make_client().get(f"/password/{token}")
    assert gone.status_code == 404 and LINK_GONE in text_of(gone.text)
    record = text_of(browser.get(_page(setup, resident)).text)
    assert "Đoàn Viên Thanh" in record and "Đã dùng lúc" in record


def test_login_card_carries_the_reset_qr_when_asked(client, db, settings, make_client):
    setup = team_setup(client, db, settings, make_client)
    resident = _people(db, settings, setup)
    fresh(db)
    db.get(User, resident.id).password_hash = None  # enrolled by the team: no password yet
    db.commit()
    browser = _member_browser(make_client, setup)
    page = browser.get(_page(setup, resident)).text
    assert 'name="with_reset" value="1" checked>' in page and "Chưa đặt mật khẩu" in text_of(page)
    card = post_form(browser, f"{_page(setup, resident)}/card", {"with_reset": "1"}, page=_page(setup, resident))
    assert card.status_code == 200
    login_url, reset_url = qr_texts(card.text)
    assert "/k/" in login_url and "/password/" in reset_url
    assert make_client().get(login_url.replace(settings.base_url, "")).status_code == 303
    token = reset_url.rsplit("/", 1)[1]
    done = post_form(make_client(), f"/password/{token}", {"new": NEW_PASSWORD, "confirm": NEW_PASSWORD},
                     page=f"/password/{token}")
    assert done.status_code == 303
    fresh(db)
    assert password_context(settings).verify(NEW_PASSWORD, db.get(User, resident.id).password_hash)
    db.commit()
    # Without the tick: the login card alone, and no link is issued.
    before = _links(db)
    plain = post_form(browser, f"{_page(setup, resident)}/card", {}, page=_page(setup, resident))
    assert len(qr_texts(plain.text)) == 1 and "ĐẶT MẬT KHẨU" not in plain.text
    assert _links(db) == before


def test_a_member_can_never_reset_staff_or_admins(client, db, settings, make_client):
    setup = team_setup(client, db, settings, make_client)
    village = setup.places.villages[0]
    staff_here = make_user(db, settings, role="staff", commune=setup.places.commune, village=village,
                           name="Cán Bộ Ở Thôn")
    admin_here = make_user(db, settings, role="admin", village=village, name="Quản Trị Ở Thôn")
    other_member = make_user(db, settings, role="team_member", commune=setup.places.commune, village=village,
                             name="Tổ Viên Khác")
    browser = _member_browser(make_client, setup)
    for person in (staff_here, admin_here, other_member):
        response = post_form(browser, f"{_page(setup, person)}/reset", {}, page="/teams")
        assert response.status_code == 403, person.full_name
        assert "chỉ cấp mã đặt mật khẩu cho người học" in text_of(response.text)
        card = post_form(browser, f"{_page(setup, person)}/card", {"with_reset": "1"}, page="/teams")
        assert card.status_code in (403, 409), person.full_name
    assert _links(db) == 0
    fresh(db)
    assert db.exec(select(func.count()).select_from(LoginCard)).one()[0] == 0
    for person in (staff_here, admin_here):
        assert password_context(settings).verify(PASSWORD, db.get(User, person.id).password_hash)
    db.commit()


def test_a_resident_without_phone_is_told_to_use_the_login_card(client, db, settings, make_client):
    setup = team_setup(client, db, settings, make_client)
    person = User(full_name="Ông Không Điện Thoại", phone=None, village_id=setup.places.villages[0].id,
                  commune_id=setup.places.commune.id)
    db.add(person)
    db.commit()
    browser = _member_browser(make_client, setup)
    page = browser.get(_page(setup, person)).text
    assert "with_reset" not in page and "chưa có số điện thoại" in text_of(page)
    response = post_form(browser, f"{_page(setup, person)}/reset", {}, page=_page(setup, person))
    assert response.status_code == 409 and "chưa có số điện thoại" in text_of(response.text)
    card = post_form(browser, f"{_page(setup, person)}/card", {"with_reset": "1"}, page=_page(setup, person))
    assert card.status_code == 200 and len(qr_texts(card.text)) == 1  # the login card, nothing else
    assert _links(db) == 0


@pytest.mark.parametrize("role", [None, "learner", "team_member", "other_member", "staff", "other_staff",
                                  "admin"])
def test_reset_route_for_every_role(client, db, settings, make_client, role):
    setup = team_setup(client, db, settings, make_client)
    resident = _people(db, settings, setup)
    theirs = make_places(db, commune_name="Xã Bên Cạnh", villages=("Thôn Xa",))
    actors = {
        "learner": resident, "team_member": setup.member, "staff": setup.staff,
        "other_member": make_user(db, settings, role="team_member", commune=setup.places.commune,
                                  name="Không Thuộc Tổ"),
        "other_staff": make_user(db, settings, role="staff", commune=theirs.commune, name="Cán Bộ Xa"),
        "admin": make_user(db, settings, role="admin", name="Quản Trị Viên"),
    }
    browser = make_client()
    if role:
        login(browser, actors[role].phone)
    response = post_form(browser, f"{_page(setup, resident)}/reset", {}, page="/login")
    expected = {None: 303, "learner": 403, "team_member": 200, "other_member": 404, "staff": 200,
                "other_staff": 404, "admin": 200}[role]
    assert response.status_code == expected, response.text
    if role is None:
        assert response.headers["location"].startswith("/login?next=")
    assert _links(db) == (1 if expected == 200 else 0)


def test_a_resident_of_another_village_is_not_found(client, db, settings, make_client):
    setup = team_setup(client, db, settings, make_client)
    elsewhere = make_user(db, settings, village=setup.places.villages[2], name="Người Thôn Bắc")
    browser = _member_browser(make_client, setup)
    assert post_form(browser, f"{_page(setup, elsewhere)}/reset", {}, page="/teams").status_code == 404
    assert _links(db) == 0


# --- Admins create teams ---------------------------------------------------------------------


def test_admin_creates_a_team_for_the_commune_they_pick(client, db, settings):
    ours = make_places(db)
    theirs = make_places(db, commune_name="Xã Bên Cạnh", villages=("Thôn Xa",))
    admin = make_user(db, settings, role="admin", name="Quản Trị Viên")
    login(client, admin.phone)
    page = client.get("/teams").text
    assert "Thành lập tổ mới" in text_of(page) and 'name="commune_id"' in page
    assert "Thôn Xa" in page and "Thôn Đông" in page

    no_commune = post_form(client, "/teams", {"name": "Tổ số 1", "villages": [str(ours.villages[0].id)]},
                           page="/teams")
    assert no_commune.status_code == 422 and "Chọn xã/phường của tổ" in text_of(no_commune.text)
    assert 'value="Tổ số 1"' in no_commune.text
    mixed = post_form(client, "/teams", {"name": "Tổ số 1", "commune_id": str(ours.commune.id),
                                         "villages": [str(ours.villages[0].id), str(theirs.villages[0].id)]},
                      page="/teams")
    assert mixed.status_code == 422 and "không thuộc xã/phường này" in text_of(mixed.text)
    assert f'<option value="{ours.commune.id}" selected>' in mixed.text
    fresh(db)
    assert db.exec(select(func.count()).select_from(Team)).one()[0] == 0
    db.commit()

    made = post_form(client, "/teams", {"name": "Tổ công nghệ số thôn Xa", "commune_id": str(theirs.commune.id),
                                        "villages": [str(theirs.villages[0].id)]}, page="/teams")
    assert made.status_code == 303
    fresh(db)
    team = db.exec(select(Team)).scalars().one()
    db.commit()
    assert team.commune_id == theirs.commune.id and team.name == "Tổ công nghệ số thôn Xa"


def test_only_staff_and_admins_see_the_team_form(client, db, settings, make_client):
    places = make_places(db)
    member = make_user(db, settings, role="team_member", commune=places.commune)
    login(client, member.phone)
    assert "Thành lập tổ mới" not in text_of(client.get("/teams").text)
    staff = make_client()
    login(staff, make_user(db, settings, role="staff", commune=places.commune, name="Cán Bộ Xã").phone)
    page = staff.get("/teams").text
    assert "Thành lập tổ mới" in text_of(page) and 'name="commune_id"' not in page
