"""Home, health check, static files, error pages, layout."""

import gzip

import pytest

from tests.factories import login, make_places, make_user, text_of


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_checks_report_a_broken_database(client, app, path):
    from sqlalchemy import create_engine

    good = app.state.engine
    app.state.engine = create_engine("sqlite:////nonexistent-dir/x.db")
    try:
        response = client.get(path)
    finally:
        app.state.engine = good
    assert response.status_code == 503 and response.json()["status"] == "error"
    assert response.json()["database"] == "unreachable"


def test_readyz_waits_for_migrations(client, app, settings):
    """A load balancer must not send traffic to a host whose code is newer than the schema."""
    from alembic import command
    from alembic.script import ScriptDirectory

    from lms import migrations

    config = migrations.alembic_config(settings)
    never_migrated = client.get("/readyz")  # the test schema is made without migrations
    assert never_migrated.status_code == 503 and never_migrated.json()["migrations"] == "pending"
    command.stamp(config, "heads")
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ok", "database": "ok", "migrations": "ok"}
    script = ScriptDirectory.from_config(config)
    newest = script.get_revision(sorted(script.get_heads())[0])
    command.stamp(config, newest.down_revision, purge=True)  # one migration not yet run
    behind = client.get("/readyz")
    assert behind.status_code == 503 and behind.json()["migrations"] == "pending"


def test_home_is_vietnamese_and_mobile_ready(client):
    page = client.get("/").text
    assert '<html lang="vi">' in page
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in page
    assert "Bình dân học vụ số" in text_of(page)
    assert "Đăng ký học miễn phí" in text_of(page)


def test_static_files_have_hashed_names_and_long_cache(client, app):
    page = client.get("/").text
    css_url = app.state.static.url("css/site.css")
    js_url = app.state.static.url("vendor/htmx-2.0.11.min.js")
    assert css_url in page and js_url not in page  # the home page needs no script
    assert js_url in client.get("/courses").text
    assert css_url.startswith("/static/css/site.") and css_url.endswith(".css")
    css = client.get(css_url)
    assert css.status_code == 200
    assert css.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "font-size:18px" in css.text
    js = client.get(js_url, headers={"accept-encoding": "gzip"})
    assert js.headers["content-encoding"] == "gzip"
    assert "htmx" in js.text


def test_htmx_is_vendored_with_its_licence(app):
    licence = app.state.static.path("vendor/htmx-2.0.11.LICENSE").read_text()
    assert "Zero-Clause BSD" in licence


def test_html_is_compressed(client):
    response = client.get("/signup", headers={"accept-encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    raw = client.get("/signup", headers={"accept-encoding": "identity"})
    assert len(gzip.compress(raw.content)) < len(raw.content)


def test_unknown_page_is_a_vietnamese_404(client):
    response = client.get("/khong-co-trang-nay")
    assert response.status_code == 404
    assert "Không tìm thấy trang" in text_of(response.text)


def test_security_headers(client):
    headers = client.get("/").headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


def test_cookies_are_httponly_lax_and_secure_on_https(make_settings, engine, db):
    from fastapi.testclient import TestClient

    from lms.app import create_app

    user = make_user(db, make_settings())
    app = create_app(make_settings(base_url="https://hocvuso.example.vn"))
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        csrf_cookie = client.get("/login").headers["set-cookie"]
        assert "HttpOnly" in csrf_cookie and "SameSite=Lax" in csrf_cookie
        assert "Secure" in csrf_cookie
        response = login(client, user.phone)
    session_cookie = response.headers["set-cookie"]
    assert "hv_session=" in session_cookie
    assert "HttpOnly" in session_cookie and "Secure" in session_cookie
    assert "samesite=lax" in session_cookie.lower()


def test_staff_nav_entry_only_for_staff(client, db, settings):
    places = make_places(db)
    learner = make_user(db, settings, village=places.villages[0])
    login(client, learner.phone)
    assert 'href="/staff"' not in client.get("/").text
    staff = make_user(db, settings, role="staff", commune=places.commune)
    login(client, staff.phone)
    assert '<a href="/staff">Quản lý</a>' in client.get("/").text


def test_the_suite_runs_on_the_database_it_was_given(engine):
    from tests.conftest import ON_POSTGRES

    assert engine.dialect.name == ("postgresql" if ON_POSTGRES else "sqlite")


def test_sqlite_runs_in_wal_with_foreign_keys_and_a_busy_timeout(engine):
    from tests.conftest import ON_POSTGRES

    if ON_POSTGRES:
        return
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_staff_tools_are_on_the_staff_home_not_in_the_header(client, db, settings):
    places = make_places(db)
    staff = make_user(db, settings, role="staff", commune=places.commune)
    login(client, staff.phone)
    page = client.get("/staff").text
    header = page[page.index("<header"): page.index("</header>")]
    main = page[page.index("<main"):]
    for href in ("/staff/quizzes", "/staff/certificates"):
        assert f'href="{href}"' in main and href not in header


def test_a_worker_puts_what_start_up_made_out_of_the_collectors_sight(app):
    import gc

    from fastapi.testclient import TestClient

    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    with TestClient(app):
        # Routes, models and templates: a full collection would walk all of them mid-request.
        assert gc.get_freeze_count() > 10_000
