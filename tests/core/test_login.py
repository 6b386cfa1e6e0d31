from fastapi.testclient import TestClient
from sqlalchemy import func, select

from lms.app import create_app
from lms.core.models import User, UserSession
from lms.security import SESSION_COOKIE
from tests.factories import PASSWORD, fresh, login, make_places, make_user, post_form, text_of


def _sessions(db, user_id):
    fresh(db)
    return db.exec(select(func.count()).select_from(UserSession)
                   .where(UserSession.user_id == user_id)).one()[0]


def test_log_in_with_any_phone_format_then_log_out(client, db, settings):
    places = make_places(db)
    make_user(db, settings, village=places.villages[0], name="Lê Văn Cường", phone="0912345678")
    response = post_form(client, "/login", {"phone": "+84 91 234 5678", "password": PASSWORD},
                         page="/login")
    assert response.status_code == 303 and response.headers["location"] == "/account"
    assert "Lê Văn Cường" in text_of(client.get("/account").text)

    post_form(client, "/logout", {}, page="/account")
    # The very next request is anonymous, even replaying the old cookie.
    assert client.get("/account").status_code == 303
    assert "Đăng nhập" in text_of(client.get("/").text)


def test_logged_out_cookie_cannot_be_replayed(client, db, settings, make_client):
    user = make_user(db, settings)
    login(client, user.phone)
    stolen = client.cookies.get(SESSION_COOKIE)
    post_form(client, "/logout", {}, page="/account")
    thief = make_client()
    thief.cookies.set(SESSION_COOKIE, stolen)
    assert thief.get("/account").status_code == 303


def test_wrong_password_message_does_not_reveal_whether_account_exists(client, db, settings):
    user = make_user(db, settings)
    wrong = post_form(client, "/login", {"phone": user.phone, "password": "sai mật khẩu"},
                      page="/login")
    unknown = post_form(client, "/login", {"phone": "0987000111", "password": "sai mật khẩu"},
                        page="/login")
    assert wrong.status_code == unknown.status_code == 422
    message = "Số điện thoại hoặc mật khẩu không đúng."
    assert message in wrong.text and message in unknown.text
    assert f'value="{user.phone}"' in wrong.text  # the phone stays filled in


def test_new_session_id_at_every_login(client, db, settings, make_client):
    user = make_user(db, settings)
    login(client, user.phone)
    first = client.cookies.get(SESSION_COOKIE)
    login(client, user.phone)
    second = client.cookies.get(SESSION_COOKIE)
    assert first != second and len(second) >= 43  # 256 bits, base64
    # Logging in again from the same browser replaces its previous session.
    assert _sessions(db, user.id) == 1
    stale = make_client()
    stale.cookies.set(SESSION_COOKIE, first)
    assert stale.get("/account").status_code == 303


def test_five_failures_make_the_next_attempt_wait_across_workers(make_settings, engine, db):
    settings = make_settings()
    user = make_user(db, settings)
    # Two separate apps on one database stand for two worker processes.
    worker_a, worker_b = create_app(settings), create_app(settings)
    with TestClient(worker_a, follow_redirects=False) as a, \
         TestClient(worker_b, follow_redirects=False) as b:
        for i in range(5):
            browser = a if i % 2 else b
            response = post_form(browser, "/login", {"phone": user.phone, "password": "sai"},
                                 page="/login")
            assert "không đúng" in response.text
        blocked = post_form(b, "/login", {"phone": user.phone, "password": PASSWORD},
                            page="/login")
    assert blocked.status_code == 429
    assert "Vui lòng chờ 15 phút" in text_of(blocked.text)
    assert _sessions(db, user.id) == 0


def test_a_success_clears_the_failure_count(client, db, settings):
    user = make_user(db, settings)
    for _ in range(4):
        post_form(client, "/login", {"phone": user.phone, "password": "sai"}, page="/login")
    login(client, user.phone)
    post_form(client, "/logout", {}, page="/account")
    for _ in range(4):
        post_form(client, "/login", {"phone": user.phone, "password": "sai"}, page="/login")
    login(client, user.phone)


def test_hash_is_upgraded_on_login_when_parameters_change(make_settings, engine, db):
    weak = make_settings(argon2_time_cost=1, argon2_memory_cost=1024)
    user = make_user(db, weak)
    old_hash = user.password_hash
    assert "t=1" in old_hash
    strong = make_settings(argon2_time_cost=2, argon2_memory_cost=2048)
    with TestClient(create_app(strong), follow_redirects=False) as client:
        login(client, user.phone)
    fresh(db)
    new_hash = db.get(User, user.id).password_hash
    assert new_hash != old_hash and "t=2" in new_hash and "m=2048" in new_hash


def test_long_vietnamese_passwords_are_not_cut(client, db, settings):
    # bcrypt would silently ignore everything after byte 72.
    long_password = "Tôi sinh ra ở làng Đông, bên dòng sông Hồng đỏ nặng phù sa mùa lũ " * 2
    assert len(long_password.encode()) > 72
    user = make_user(db, settings, password=long_password)
    almost = long_password[:-2] + "xx"
    response = post_form(client, "/login", {"phone": user.phone, "password": almost},
                         page="/login")
    assert response.status_code == 422
    login(client, user.phone, long_password)


def test_change_password_ends_other_sessions(client, db, settings, make_client):
    user = make_user(db, settings)
    other_device = make_client()
    login(other_device, user.phone)
    login(client, user.phone)
    response = post_form(client, "/account/password",
                         {"current": PASSWORD, "new": "mật khẩu mới 2027", "confirm":
                          "mật khẩu mới 2027"}, page="/account/password")
    assert response.status_code == 303
    assert "Đã đổi mật khẩu" in text_of(client.get(response.headers["location"]).text)
    assert other_device.get("/account").status_code == 303
    post_form(client, "/logout", {}, page="/account")
    login(client, user.phone, "mật khẩu mới 2027")


def test_change_password_errors_are_explained(client, db, settings):
    user = make_user(db, settings)
    login(client, user.phone)
    response = post_form(client, "/account/password",
                         {"current": "sai", "new": "ngắn", "confirm": "ngắn"},
                         page="/account/password")
    assert response.status_code == 422
    text = text_of(response.text)
    assert "Mật khẩu hiện tại không đúng" in text and "ít nhất 8 ký tự" in text


def test_staff_can_end_a_users_sessions_and_it_takes_effect_at_once(
        client, db, settings, make_client):
    places = make_places(db)
    learner = make_user(db, settings, village=places.villages[0])
    staff = make_user(db, settings, role="staff", commune=places.commune, name="Cán Bộ Xã")
    learner_browser = make_client()
    login(learner_browser, learner.phone)
    login(client, staff.phone)
    response = post_form(client, f"/staff/users/{learner.id}/sessions/end", {},
                         page=f"/staff/users/{learner.id}")
    assert response.status_code == 303
    assert "Đã đăng xuất người này" in text_of(client.get(response.headers["location"]).text)
    assert learner_browser.get("/account").status_code == 303


def test_role_change_takes_effect_on_the_next_request(client, db, settings, make_client):
    places = make_places(db)
    admin = make_user(db, settings, role="admin", name="Quản Trị")
    staff = make_user(db, settings, role="staff", commune=places.commune, name="Cán Bộ")
    staff_browser = make_client()
    login(staff_browser, staff.phone)
    assert staff_browser.get("/staff").status_code == 200
    login(client, admin.phone)
    response = post_form(client, f"/staff/users/{staff.id}/role", {"role": "learner"},
                         page=f"/staff/users/{staff.id}")
    assert response.status_code == 303
    # Demoted: signed out at once (issue #12), so the old rights end with the next request.
    assert staff_browser.get("/staff").status_code == 303


def test_one_client_trying_many_phones_is_slowed_down(make_settings, engine, db):
    places = make_places(db)
    victims = [make_user(db, make_settings(), village=places.villages[0], name=f"Người Thử {chr(65 + i)}")
               for i in range(5)]
    app = create_app(make_settings(login_max_failures_per_client=3))
    with TestClient(app, follow_redirects=False) as sprayer:
        answers = [post_form(sprayer, "/login", {"phone": v.phone, "password": "matkhau2026!"}, page="/login")
                   for v in victims[:3]]
        assert [a.status_code for a in answers] == [422, 422, 422]
        # Every phone has failed only once, yet this device now waits, even with a right password.
        blocked = post_form(sprayer, "/login", {"phone": victims[3].phone, "password": PASSWORD}, page="/login")
        assert blocked.status_code == 429 and "Thiết bị này đã đăng nhập sai quá nhiều lần" in text_of(blocked.text)
    with TestClient(app, follow_redirects=False, client=("192.0.2.9", 5000)) as neighbour:
        # Another device is not affected.
        assert post_form(neighbour, "/login", {"phone": victims[4].phone, "password": PASSWORD},
                         page="/login").status_code == 303


def test_a_role_change_ends_the_persons_sessions(client, db, settings, make_client):
    places = make_places(db)
    member = make_user(db, settings, role="team_member", commune=places.commune, village=places.villages[0])
    staff = make_user(db, settings, role="staff", commune=places.commune)
    theirs = make_client()
    login(theirs, member.phone)
    assert theirs.get("/teams").status_code == 200
    login(client, staff.phone)
    changed = post_form(client, f"/staff/users/{member.id}/role", {"role": "learner"}, page="/staff")
    assert changed.status_code == 303
    assert theirs.get("/teams").status_code == 303  # signed out: log in again with the new rights
    assert _sessions(db, member.id) == 0
    assert client.get("/staff").status_code == 200  # the staff member's own session stays
