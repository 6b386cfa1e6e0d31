"""Staff and admins help people in: a printed one-time reset link, and new staff and team
member accounts that start with an invitation link instead of a password."""

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from lms.core.models import PasswordLink, Place, User, UserSession
from lms.core.services import LINK_GONE, password_context
from lms.db import utcnow
from lms.security import token_digest
from tests.factories import PASSWORD, fresh, login, make_places, make_user, post_form, text_of

NEW_PASSWORD = "mật khẩu mới của tôi 2026"


@dataclass
class World:
    ours: object
    theirs: object
    admin: User
    staff: User
    other_staff: User
    colleague: User
    learner: User
    member: User
    their_learner: User


def _world(db, settings) -> World:
    ours = make_places(db)
    theirs = make_places(db, commune_name="Xã Bên Cạnh", villages=("Thôn Xa",))
    return World(
        ours, theirs,
        admin=make_user(db, settings, role="admin", commune=ours.commune, name="Quản Trị Viên"),
        staff=make_user(db, settings, role="staff", commune=ours.commune, name="Cán Bộ Xã"),
        other_staff=make_user(db, settings, role="staff", commune=theirs.commune, name="Cán Bộ Xã Khác"),
        colleague=make_user(db, settings, role="staff", commune=ours.commune, name="Đồng Nghiệp"),
        learner=make_user(db, settings, village=ours.villages[0], name="Nguyễn Thị Lan"),
        member=make_user(db, settings, role="team_member", commune=ours.commune, village=ours.villages[1],
                         name="Thành Viên Tổ"),
        their_learner=make_user(db, settings, village=theirs.villages[0], name="Người Xã Khác"),
    )


def _links(db) -> int:
    fresh(db)
    count = db.exec(select(func.count()).select_from(PasswordLink)).one()[0]
    db.commit()
    return count


def _token(page: str) -> str:
    match = re.search(r"/password/([A-Za-z0-9_-]{40,})", page)
    assert match, "no password link in the page"
    return match.group(1)


def qr_texts(page: str) -> list[str]:
    """What every QR code drawn in the page says, decoded with zxing."""
    import io

    import zxingcpp
    from PIL import Image

    from tests.teams.test_teams import _svg_to_png

    out = []
    for svg in re.findall(r"<svg.*?</svg>", page, flags=re.S):
        [result] = zxingcpp.read_barcodes(Image.open(io.BytesIO(_svg_to_png(svg))))
        out.append(result.text)
    return out


def _reset(client, target: User):
    return post_form(client, f"/staff/users/{target.id}/reset", {}, page=f"/staff/users/{target.id}")


# --- Who may issue a reset link ----------------------------------------------------------


@pytest.mark.parametrize("role", [None, "learner", "team_member", "staff", "other_staff", "admin"])
def test_reset_route_for_every_role(client, db, settings, role):
    world = _world(db, settings)
    actor = {"learner": world.their_learner, "team_member": world.member, "staff": world.staff,
             "other_staff": world.other_staff, "admin": world.admin}.get(role)
    if actor:
        login(client, actor.phone)
    response = post_form(client, f"/staff/users/{world.learner.id}/reset", {}, page="/login")
    expected = {None: 303, "learner": 403, "team_member": 403, "staff": 200, "other_staff": 404, "admin": 200}
    assert response.status_code == expected[role], response.text
    if role is None:
        assert response.headers["location"].startswith("/login?next=")
    if expected[role] == 200:
        assert response.headers["cache-control"] == "no-store"
        assert _links(db) == 1
    else:
        assert _links(db) == 0  # a refusal writes nothing


def test_staff_reset_only_learners_and_team_members_of_their_commune(client, db, settings, make_client):
    world = _world(db, settings)
    login(client, world.staff.phone)
    assert _reset(client, world.member).status_code == 200
    assert _links(db) == 1
    for target, status in [(world.colleague, 403), (world.admin, 403), (world.staff, 403),
                           (world.their_learner, 404)]:
        response = _reset(client, target) if status != 404 else \
            post_form(client, f"/staff/users/{target.id}/reset", {}, page="/staff")
        assert response.status_code == status, target.full_name
        assert _links(db) == 1, target.full_name
    refused = _reset(client, world.colleague)
    assert "chỉ cấp liên kết đặt lại mật khẩu cho người học" in text_of(refused.text)
    # The page offers the button only where it works.
    assert "In mã đặt lại mật khẩu" in client.get(f"/staff/users/{world.learner.id}").text
    assert "In mã đặt lại mật khẩu" not in client.get(f"/staff/users/{world.colleague.id}").text

    admin = make_client()
    login(admin, world.admin.phone)
    for target in (world.colleague, world.other_staff, world.their_learner):
        assert _reset(admin, target).status_code == 200
    assert _links(db) == 4
    yourself = _reset(admin, world.admin)
    assert yourself.status_code == 403 and "trang Tài khoản" in text_of(yourself.text)
    assert _links(db) == 4


def test_a_person_without_phone_gets_no_reset_link(client, db, settings):
    world = _world(db, settings)
    no_phone = User(full_name="Bà Không Điện Thoại", phone=None, village_id=world.ours.villages[0].id,
                    commune_id=world.ours.commune.id)
    db.add(no_phone)
    db.commit()
    login(client, world.staff.phone)
    response = _reset(client, no_phone)
    assert response.status_code == 409 and "chưa có số điện thoại" in text_of(response.text)
    assert _links(db) == 0


# --- The link, end to end ------------------------------------------------------------------


def test_reset_link_end_to_end(client, db, settings, make_client):
    world = _world(db, settings)
    their_phone = make_client()
    login(their_phone, world.learner.phone)  # a session that must end with the reset
    login(client, world.staff.phone)
    page = _reset(client, world.learner)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    visible = text_of(page.text)
    assert "Nguyễn Thị Lan" in visible and "Chỉ dùng được một lần" in visible and "hết hạn lúc" in visible
    token = _token(page.text)
    url = f"{settings.base_url}/password/{token}"
    assert url in visible
    assert qr_texts(page.text) == [url]  # the printed QR opens the same page
    fresh(db)
    link = db.exec(select(PasswordLink)).scalars().one()
    db.commit()
    assert link.digest == token_digest(token) and token not in link.digest
    assert link.purpose == "reset" and link.created_by_id == world.staff.id and link.user_id == world.learner.id
    assert timedelta(hours=71, minutes=59) < link.expires_at - link.created_at <= timedelta(hours=72)

    browser = make_client()
    form = browser.get(f"/password/{token}")
    assert form.status_code == 200 and "Nguyễn Thị Lan" in text_of(form.text)
    assert form.headers["cache-control"] == "no-store"
    done = post_form(browser, f"/password/{token}", {"new": NEW_PASSWORD, "confirm": NEW_PASSWORD},
                     page=f"/password/{token}")
    assert done.status_code == 303 and done.headers["location"] == "/account?password_set=1"
    assert "Nguyễn Thị Lan" in text_of(browser.get("/account").text)  # signed in
    assert their_phone.get("/account").status_code == 303  # the old session ended
    fresh(db)
    assert db.exec(select(func.count()).select_from(UserSession)
                   .where(UserSession.user_id == world.learner.id)).one()[0] == 1
    person = db.get(User, world.learner.id)
    assert password_context(settings).verify(NEW_PASSWORD, person.password_hash)
    db.commit()
    login(make_client(), world.learner.phone, NEW_PASSWORD)

    # Used once: the second visit and a second post say it is gone, and change nothing.
    again = make_client()
    gone = again.get(f"/password/{token}")
    assert gone.status_code == 404 and LINK_GONE in text_of(gone.text)
    second = post_form(again, f"/password/{token}", {"new": "khác hẳn 2026 abc", "confirm": "khác hẳn 2026 abc"},
                       page="/login")
    assert second.status_code == 404 and LINK_GONE in text_of(second.text)
    fresh(db)
    assert password_context(settings).verify(NEW_PASSWORD, db.get(User, world.learner.id).password_hash)
    db.commit()


def test_reset_link_expires_after_72_hours(client, db, settings, make_client):
    world = _world(db, settings)
    login(client, world.staff.phone)
    token = _token(_reset(client, world.learner).text)
    fresh(db)
    db.execute(update(PasswordLink).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.commit()
    browser = make_client()
    assert browser.get(f"/password/{token}").status_code == 404
    response = post_form(browser, f"/password/{token}", {"new": NEW_PASSWORD, "confirm": NEW_PASSWORD},
                         page="/login")
    assert response.status_code == 404 and LINK_GONE in text_of(response.text)
    fresh(db)
    assert password_context(settings).verify(PASSWORD, db.get(User, world.learner.id).password_hash)
    db.commit()
    assert "Đã hết hạn, chưa dùng" in text_of(client.get(f"/staff/users/{world.learner.id}").text)


def test_a_newer_link_ends_the_older_and_the_record_says_who(client, db, settings, make_client):
    world = _world(db, settings)
    admin = make_client()
    login(admin, world.admin.phone)
    login(client, world.staff.phone)
    first = _token(_reset(admin, world.learner).text)
    second = _token(_reset(client, world.learner).text)
    browser = make_client()
    assert browser.get(f"/password/{first}").status_code == 404
    assert browser.get(f"/password/{second}").status_code == 200
    record = text_of(client.get(f"/staff/users/{world.learner.id}").text)
    assert "Liên kết đặt mật khẩu đã cấp" in record
    assert "Quản Trị Viên" in record and "Cán Bộ Xã" in record
    assert "Không còn hiệu lực (đã cấp liên kết mới)" in record and "Chưa dùng, còn hiệu lực đến" in record
    post_form(browser, f"/password/{second}", {"new": NEW_PASSWORD, "confirm": NEW_PASSWORD},
              page=f"/password/{second}")
    assert "Đã dùng lúc" in text_of(client.get(f"/staff/users/{world.learner.id}").text)
    # Another learner's page shows none of it.
    assert "Liên kết đặt mật khẩu đã cấp" not in client.get(f"/staff/users/{world.member.id}").text


# --- New accounts with an invitation ------------------------------------------------------


@pytest.mark.parametrize("role", [None, "learner", "team_member", "staff", "admin"])
def test_new_account_form_for_every_role(client, db, settings, role):
    world = _world(db, settings)
    actor = {"learner": world.learner, "team_member": world.member, "staff": world.staff,
             "admin": world.admin}.get(role)
    if actor:
        login(client, actor.phone)
    page = client.get("/staff/accounts/new")
    posted = post_form(client, "/staff/accounts/new", {"full_name": "Người Mới", "phone": "0987 654 321",
                                                       "role": "team_member",
                                                       "commune_id": str(world.ours.commune.id)}, page="/login")
    expected = {None: (303, 303), "learner": (403, 403), "team_member": (403, 403), "staff": (200, 200),
                "admin": (200, 200)}[role]
    assert (page.status_code, posted.status_code) == expected
    fresh(db)
    created = db.exec(select(User).where(User.phone == "0987654321")).scalars().first()
    db.commit()
    assert (created is not None) == (expected[1] == 200)
    if created:
        assert created.role == "team_member" and created.commune_id == world.ours.commune.id
        assert created.password_hash is None


def test_staff_create_team_members_of_their_commune_only(client, db, settings):
    world = _world(db, settings)
    login(client, world.staff.phone)
    page = text_of(client.get("/staff/accounts/new").text)
    assert "Xã Minh Châu" in page and "Cán bộ xã/phường" not in page  # no role staff may not give
    made = post_form(client, "/staff/accounts/new", {"full_name": "Lê Văn Tổ", "phone": "0911222333",
                                                     "role": "team_member",
                                                     "commune_id": str(world.theirs.commune.id)},
                     page="/staff/accounts/new")
    assert made.status_code == 200
    fresh(db)
    person = db.exec(select(User).where(User.phone == "0911222333")).scalars().one()
    db.commit()
    assert person.commune_id == world.ours.commune.id  # the form's commune is not theirs to choose
    refused = post_form(client, "/staff/accounts/new", {"full_name": "Cán Bộ Mới", "phone": "0911222444",
                                                        "role": "staff"}, page="/staff/accounts/new")
    assert refused.status_code == 422 and "Chọn vai trò" in text_of(refused.text)
    assert 'value="Cán Bộ Mới"' in refused.text and 'value="0911222444"' in refused.text
    fresh(db)
    assert db.exec(select(User).where(User.phone == "0911222444")).first() is None
    db.commit()


def test_invitation_end_to_end(client, db, settings, make_client):
    world = _world(db, settings)
    login(client, world.admin.phone)
    form = client.get(f"/staff/accounts/new?commune={world.theirs.commune.id}").text
    assert f'<option value="{world.theirs.commune.id}" selected>' in form
    page = post_form(client, "/staff/accounts/new", {"full_name": "  Trần   Thị Bình ", "phone": "0912 345 678",
                                                     "role": "staff", "commune_id": str(world.theirs.commune.id)},
                     page="/staff/accounts/new")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    visible = text_of(page.text)
    assert "Lời mời đặt mật khẩu" in visible and "Trần Thị Bình" in visible and "Chỉ dùng được một lần" in visible
    token = _token(page.text)
    assert qr_texts(page.text) == [f"{settings.base_url}/password/{token}"]
    fresh(db)
    person = db.exec(select(User).where(User.phone == "0912345678")).scalars().one()
    link = db.exec(select(PasswordLink).where(PasswordLink.user_id == person.id)).scalars().one()
    db.commit()
    assert person.full_name == "Trần Thị Bình" and person.role == "staff"
    assert person.commune_id == world.theirs.commune.id and person.password_hash is None
    assert link.purpose == "invite" and link.created_by_id == world.admin.id
    assert timedelta(hours=71, minutes=59) < link.expires_at - link.created_at <= timedelta(hours=72)
    # No password yet: logging in fails until the invitation is used.
    refused = post_form(make_client(), "/login", {"phone": "0912345678", "password": NEW_PASSWORD}, page="/login")
    assert refused.status_code == 422

    phone = make_client()
    done = post_form(phone, f"/password/{token}", {"new": NEW_PASSWORD, "confirm": NEW_PASSWORD},
                     page=f"/password/{token}")
    assert done.status_code == 303
    assert phone.get("/staff").status_code == 200  # signed in, as the new staff member
    assert "Xã Bên Cạnh" in text_of(phone.get("/staff").text)
    login(make_client(), "0912345678", NEW_PASSWORD)
    assert make_client().get(f"/password/{token}").status_code == 404
    record = text_of(client.get(f"/staff/users/{person.id}").text)
    assert "Lời mời" in record and "Quản Trị Viên" in record and "Đã dùng lúc" in record


def test_a_phone_that_has_an_account_is_said_and_left_alone(client, db, settings):
    world = _world(db, settings)
    login(client, world.staff.phone)
    before = _links(db)
    spaced = f"{world.learner.phone[:4]} {world.learner.phone[4:7]} {world.learner.phone[7:]}"
    response = post_form(client, "/staff/accounts/new", {"full_name": "Tên Khác Hẳn", "phone": spaced,
                                                         "role": "team_member"}, page="/staff/accounts/new")
    assert response.status_code == 422
    visible = text_of(response.text)
    assert "Số điện thoại này đã có tài khoản (Nguyễn Thị Lan)" in visible and "không bị thay đổi" in visible
    assert f'href="/staff/users/{world.learner.id}"' in response.text  # go to that person instead
    assert 'value="Tên Khác Hẳn"' in response.text
    fresh(db)
    learner = db.get(User, world.learner.id)
    db.commit()
    assert learner.role == "learner" and learner.full_name == "Nguyễn Thị Lan"
    assert password_context(settings).verify(PASSWORD, learner.password_hash)
    assert _links(db) == before
    # Someone of another commune: said too, but their page is not offered.
    response = post_form(client, "/staff/accounts/new", {"full_name": "Tên Khác Hẳn",
                                                         "phone": world.their_learner.phone,
                                                         "role": "team_member"}, page="/staff/accounts/new")
    assert response.status_code == 422 and "đã có tài khoản" in text_of(response.text)
    assert f"/staff/users/{world.their_learner.id}" not in response.text


def test_bad_input_is_explained_and_kept(client, db, settings):
    world = _world(db, settings)
    login(client, world.admin.phone)
    users_before = db.exec(select(func.count()).select_from(User)).one()[0]
    db.commit()
    response = post_form(client, "/staff/accounts/new", {"full_name": "A1", "phone": "12345", "role": "admin",
                                                         "commune_id": "999999999999"}, page="/staff/accounts/new")
    assert response.status_code == 422
    visible = text_of(response.text)
    assert "Họ và tên" in visible and "Chọn vai trò" in visible and "Chọn xã/phường" in visible
    assert 'value="A1"' in response.text and 'value="12345"' in response.text
    fresh(db)
    assert db.exec(select(func.count()).select_from(User)).one()[0] == users_before
    assert db.exec(select(func.count()).select_from(PasswordLink)).one()[0] == 0
    db.commit()
    _ = world


def test_the_entry_is_on_the_staff_home_and_users_list(client, db, settings):
    world = _world(db, settings)
    login(client, world.staff.phone)
    for path in ("/staff", "/staff/users"):
        page = client.get(path).text
        assert "Thêm người dùng" in text_of(page)
        assert f'href="/staff/accounts/new?commune={world.ours.commune.id}"' in page


def test_no_commune_yet_says_what_to_do(client, db, settings):
    admin = make_user(db, settings, role="admin", name="Quản Trị Viên")
    db.execute(update(Place).values(active=False))
    db.commit()
    login(client, admin.phone)
    assert "Thêm xã/phường" in text_of(client.get("/staff/accounts/new").text)
