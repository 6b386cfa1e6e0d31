"""The request guard: cookies, origin, form limits, https cookies and HSTS, methods, proxies,
and the pages shown when something goes wrong (busy database, unexpected error, bad ids)."""

import sqlite3
import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from lms.app import create_app
from lms.core.models import Place, User
from lms.web import FOREIGN_ORIGIN, _trust_forwarded
from tests.conftest import ON_POSTGRES
from tests.factories import PASSWORD, csrf, csrf_from, fresh, login, make_places, make_user, post_form, text_of


def _signup_data(village_id: int, phone: str = "0933444555") -> dict:
    return {"full_name": "Phạm Thị Dung", "phone": phone, "village_id": str(village_id),
            "audience": "nguoi-dan", "password": PASSWORD, "password_confirm": PASSWORD, "consent": "on"}


def _users(db) -> int:
    fresh(db)
    return db.exec(select(func.count()).select_from(User)).one()[0]


def test_a_cookie_set_by_another_site_on_the_domain_does_not_sign_anyone_out(app, client, db, settings):
    places = make_places(db)
    staff = make_user(db, settings, role="staff", commune=places.commune)
    login(client, staff.phone)
    session, csrf_cookie = client.cookies["hv_session"], client.cookies["hv_csrf"]
    jar = f"theme=dark mode; hv_session={session}; lang=\"vi\"; hv_csrf={csrf_cookie}"
    with TestClient(app, follow_redirects=False) as other:
        page = other.get("/staff/villages", headers={"Cookie": jar})
        assert page.status_code == 200 and 'value="Thôn Đông"' in page.text
        response = other.post("/staff/villages", headers={"Cookie": jar},
                              data={"name": "Thôn Cookie", "csrf_token": csrf_from(page.text)})
    assert response.status_code == 303
    fresh(db)
    assert db.exec(select(Place).where(Place.name == "Thôn Cookie")).scalars().one()


def test_a_post_from_a_foreign_origin_is_refused(client, db):
    places = make_places(db)
    token = csrf(client, "/signup")
    data = {**_signup_data(places.villages[0].id), "csrf_token": token}
    refused = client.post("/signup", data=data, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403 and FOREIGN_ORIGIN in text_of(refused.text)
    assert client.post("/signup", data=data, headers={"Origin": "null"}).status_code == 403
    assert _users(db) == 0
    accepted = client.post("/signup", data=data, headers={"Origin": "http://testserver"})
    assert accepted.status_code == 303 and _users(db) == 1


def test_the_base_url_origin_is_ours_behind_a_proxy(make_settings, engine, db):
    places = make_places(db)
    app = create_app(make_settings(base_url="http://hocvuso.example"))
    with TestClient(app, follow_redirects=False) as client:
        data = {**_signup_data(places.villages[0].id), "csrf_token": csrf(client, "/signup")}
        assert client.post("/signup", data=data, headers={"Origin": "http://hocvuso.example"}).status_code == 303


def test_too_many_fields_or_a_huge_field_get_their_own_message(client, db):
    places = make_places(db)
    token = csrf(client, "/signup")
    many = [("csrf_token", token)] + [(f"f{i}", "x") for i in range(1001)]
    for encoding in ("urlencoded", "multipart"):
        if encoding == "urlencoded":
            response = client.post("/signup", data=dict(many))
        else:
            response = client.post("/signup", files={k: (None, v) for k, v in many})
        assert response.status_code == 400, encoding
        assert "quá nhiều ô" in text_of(response.text), encoding
    huge = {**_signup_data(places.villages[0].id), "csrf_token": token, "full_name": "A" * (1024 * 1024 + 10)}
    response = client.post("/signup", files={k: (None, v) for k, v in huge.items()})
    assert response.status_code == 413 and "quá dài" in text_of(response.text)
    assert "hết hạn" not in text_of(response.text)
    assert _users(db) == 0


def test_https_cookies_carry_the_host_prefix_and_hsts_is_sent(make_settings, engine, db, settings):
    places = make_places(db)
    staff = make_user(db, settings, role="staff", commune=places.commune)
    app = create_app(make_settings(base_url="https://hocvuso.example"))
    with TestClient(app, base_url="https://hocvuso.example", follow_redirects=False) as client:
        page = client.get("/login")
        assert page.headers["strict-transport-security"] == "max-age=31536000"
        set_cookie = page.headers["set-cookie"]
        assert set_cookie.startswith("__Host-hv_csrf=") and "Secure" in set_cookie and "Path=/" in set_cookie
        assert "Domain" not in set_cookie
        signed_in = client.post("/login", data={"phone": staff.phone, "password": PASSWORD,
                                                "csrf_token": csrf_from(page.text)})
        assert signed_in.status_code == 303
        session_cookie = signed_in.headers["set-cookie"]
        assert session_cookie.startswith("__Host-hv_session=") and "Secure" in session_cookie
        assert client.get("/staff").status_code == 200
    with TestClient(create_app(make_settings()), follow_redirects=False) as plain:
        page = plain.get("/login")
        assert "strict-transport-security" not in page.headers
        assert page.headers["set-cookie"].startswith("hv_csrf=")


def test_unknown_methods_and_paths_answer_405_and_404_not_403(client):
    assert client.put("/").status_code == 405
    assert client.delete("/login").status_code == 405
    assert client.post("/khong-co-trang-nay").status_code == 404
    assert client.patch("/signup").status_code == 405


def test_ids_out_of_range_are_not_found(client, db, settings):
    places = make_places(db)
    staff = make_user(db, settings, role="staff", commune=places.commune)
    login(client, staff.phone)
    for path in ("/staff/users/99999999999999999999999", "/staff/users/0", "/staff/users/-3",
                 "/staff/users/abc"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Không tìm thấy trang" in text_of(response.text), path


@pytest.mark.parametrize("peer, header, expected", [
    ("10.0.0.2", {"x-forwarded-for": "203.0.113.7"}, "203.0.113.7"),
    # A client cannot hide behind a forged first hop: the nearest untrusted address counts.
    ("10.0.0.2", {"x-forwarded-for": "198.51.100.1, 203.0.113.7, 10.0.0.9"}, "203.0.113.7"),
    ("10.0.0.2", {"forwarded": 'for=198.51.100.2;proto=https, for="[2001:db8::7]:4711"'}, "2001:db8::7"),
    ("10.0.0.2", {"x-forwarded-for": "unknown"}, "10.0.0.2"),
    # A peer that is not a trusted proxy: its headers are not believed.
    ("192.0.2.50", {"x-forwarded-for": "203.0.113.7"}, "192.0.2.50"),
])
def test_the_real_client_behind_trusted_proxies(peer, header, expected):
    import ipaddress

    scope = {"type": "http", "client": (peer, 5000),
             "headers": [(k.encode(), v.encode()) for k, v in header.items()]}
    _trust_forwarded(scope, [ipaddress.ip_network("10.0.0.0/8")])
    assert scope["client"][0] == expected


def test_trusted_proxies_default_to_nobody(make_settings):
    assert make_settings().trusted_proxies == []
    assert make_settings(trusted_proxies="10.0.0.0/8, 127.0.0.1").trusted_proxies == ["10.0.0.0/8", "127.0.0.1"]


def test_an_unexpected_error_gets_a_vietnamese_page(app, monkeypatch):
    from lms.core import services

    def broken(_db):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "village_choices", broken)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/signup")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert "Hệ thống gặp sự cố" in text_of(response.text) and "boom" not in response.text


def _hold_write_lock(settings, engine, release: threading.Event, held: threading.Event) -> None:
    if ON_POSTGRES:
        with engine.connect() as conn:
            conn.exec_driver_sql("LOCK TABLE core_user IN EXCLUSIVE MODE")
            held.set()
            release.wait(30)
            conn.rollback()
        return
    path = settings.resolved_database_url.removeprefix("sqlite:///")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    held.set()
    release.wait(30)
    conn.execute("ROLLBACK")
    conn.close()


def test_a_lock_held_too_long_says_busy_try_again(make_settings, engine, db):
    places = make_places(db)
    settings = make_settings(database_lock_timeout_seconds=0.5)
    app = create_app(settings)
    release, held = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(settings, engine, release, held))
    with TestClient(app, follow_redirects=False) as client:
        token = csrf(client, "/signup")
        holder.start()
        assert held.wait(10)
        try:
            response = client.post("/signup", data={**_signup_data(places.villages[0].id), "csrf_token": token})
        finally:
            release.set()
            holder.join()
        assert response.status_code == 503
        assert response.headers["retry-after"].isdigit()
        assert "đang bận" in text_of(response.text)
        # Nothing half-written, and the same form goes through once the lock is gone.
        assert _users(db) == 0
        again = client.post("/signup", data={**_signup_data(places.villages[0].id), "csrf_token": token})
        assert again.status_code == 303 and _users(db) == 1


def test_a_refusal_a_router_lets_through_is_shown_in_vietnamese(client, db, settings, monkeypatch):
    from lms.core import services
    from lms.errors import ServiceError

    places = make_places(db)
    staff = make_user(db, settings, role="staff", commune=places.commune)
    login(client, staff.phone)

    def refuse(*_args, **_kwargs):
        raise ServiceError("closed", "Xã đang khóa danh sách thôn.", 409)

    monkeypatch.setattr(services, "end_sessions_of", refuse)
    page = post_form(client, f"/staff/users/{staff.id}/sessions/end", {}, page="/staff")
    assert page.status_code == 409 and "Xã đang khóa danh sách thôn." in text_of(page.text)
    fragment = client.post(f"/staff/users/{staff.id}/sessions/end",
                           headers={"HX-Request": "true", "X-CSRF-Token": csrf(client, "/staff")})
    assert fragment.status_code == 409
    assert "<html" not in fragment.text and "Xã đang khóa danh sách thôn." in fragment.text


def test_rate_limits_count_the_client_behind_a_trusted_proxy(make_settings, engine):
    def verify_as(app, forwarded_for: str) -> int:
        with TestClient(app, client=("10.0.0.2", 40000)) as proxy:
            return proxy.get("/c/HVS-2222-3333-4444-5555-6666", headers={"X-Forwarded-For": forwarded_for}
                             ).status_code

    behind = create_app(make_settings(trusted_proxies="10.0.0.0/8", verify_rate_limit=2))
    assert [verify_as(behind, "203.0.113.7") for _ in range(3)] == [404, 404, 429]
    assert verify_as(behind, "203.0.113.8") == 404  # another person behind the same proxy
    # Trusting nobody (the default), every request is the proxy's own: one budget for all.
    direct = create_app(make_settings(verify_rate_limit=2))
    assert [verify_as(direct, f"203.0.113.{i}") for i in range(3)] == [404, 404, 429]


def test_the_connection_pool_matches_the_thread_pool(make_settings):
    from lms.db import make_engine

    engine = make_engine(make_settings(worker_threads=7))
    try:
        assert engine.pool.size() == 9  # one connection per request thread, the deliverer, a spare
    finally:
        engine.dispose()
