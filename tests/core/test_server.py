"""A real server with several workers on one database: concurrent writers never see
"database is locked" (SQLite) or any other server error."""

import re
from concurrent.futures import ThreadPoolExecutor

import httpx2 as httpx
from sqlalchemy import func, select

from lms.core.models import User
from tests.factories import PASSWORD, fresh, make_places

SIGNUPS = 60
THREADS = 12


def _signup(base: str, village_id: int, i: int) -> list[int]:
    statuses = []
    with httpx.Client(base_url=base, timeout=30) as browser:
        page = browser.get("/signup")
        statuses.append(page.status_code)
        token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text).group(1)
        phone = f"09{i:08d}"
        response = browser.post("/signup", data={
            "csrf_token": token, "full_name": f"Người Dùng Số {chr(65 + i % 26)}",
            "phone": phone, "village_id": str(village_id), "audience": "nguoi-dan",
            "password": PASSWORD, "password_confirm": PASSWORD, "consent": "on",
        })
        statuses.append(response.status_code)
        statuses.append(browser.get("/account").status_code)
        # Log out and in again: more writes (sessions, failure counters) in flight.
        token = re.search(r'name="csrf_token" value="([0-9a-f]+)"',
                          browser.get("/account").text).group(1)
        statuses.append(browser.post("/logout", data={"csrf_token": token}).status_code)
        login_page = browser.get("/login").text
        token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', login_page).group(1)
        statuses.append(browser.post("/login", data={
            "csrf_token": token, "phone": phone, "password": "sai mật khẩu"}).status_code)
        statuses.append(browser.post("/login", data={
            "csrf_token": token, "phone": phone, "password": PASSWORD}).status_code)
    return statuses


def test_concurrent_signups_on_two_workers_lose_nothing(live_server, db):
    places = make_places(db)
    # Sixty people from one address: the per-client log-in throttle is not what this tests.
    base = live_server(workers=2, LMS_LOGIN_MAX_FAILURES_PER_CLIENT="1000")
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(lambda i: _signup(base, places.villages[0].id, i),
                                range(SIGNUPS)))
    statuses = [s for result in results for s in result]
    assert not [s for s in statuses if s >= 500], statuses
    # signup page, signup, account, logout, failed login, login
    assert all(result == [200, 303, 200, 303, 422, 303] for result in results), results
    fresh(db)
    assert db.exec(select(func.count()).select_from(User)).one()[0] == SIGNUPS
