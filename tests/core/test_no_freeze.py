"""No request can freeze a worker: bursts with typos, one ticket scanned six times at once, and a
registration waiting for a lock, against the real server (SQLite 2 workers, PostgreSQL 4)."""

import re
import sqlite3
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx2 as httpx
import pytest
from sqlalchemy import func, select, text

from bench.event_burst import burst
from lms.plugins.events.models import Registration
from tests.conftest import ON_POSTGRES
from tests.events.eventtools import register, staff_with_event
from tests.factories import PASSWORD, fresh

WORKERS = 4 if ON_POSTGRES else 2
TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


@pytest.mark.parametrize("total, clients", [(100, 20), (200, 50)])
def test_a_burst_with_typos_answers_everyone(total, clients, live_server, client, db, settings):
    _, _, event = staff_with_event(client, db, settings)
    base = live_server(workers=WORKERS)
    result = burst(base, event.code, total=total, concurrency=clients, retry_every=5, typo_every=5,
                   timeout=30)
    assert result.errors == [] and result.timeouts == 0, result.errors[:3]
    assert result.server_errors == 0, result.statuses
    valid = total - result.typos
    # Each valid person (and each retry) gets a ticket; each typo gets the form back.
    assert result.statuses == {303: valid + total // 5, 422: result.typos}
    fresh(db)
    rows, phones = db.exec(select(func.count(), func.count(func.distinct(Registration.phone)))
                           .where(Registration.event_id == event.id)).one()
    assert rows == phones == valid


def _browser(base: str, phone: str) -> httpx.Client:
    browser = httpx.Client(base_url=base, timeout=30)
    token = TOKEN.search(browser.get("/login").text).group(1)
    assert browser.post("/login", data={"csrf_token": token, "phone": phone, "password": PASSWORD}
                        ).status_code == 303
    return browser


def test_one_ticket_scanned_six_times_at_once(live_server, client, db, settings):
    places, staff, event = staff_with_event(client, db, settings)
    ticket = register(client, event, village=places.villages[0]).headers["location"].split("/t/")[1].split("?")[0]
    base = live_server(workers=WORKERS)
    scanners = [_browser(base, staff.phone) for _ in range(6)]
    tokens = [TOKEN.search(s.get(f"/staff/events/{event.id}/checkin").text).group(1) for s in scanners]
    start = threading.Barrier(6)

    def scan(i: int) -> httpx.Response:
        start.wait()
        return scanners[i].post(f"/staff/events/{event.id}/checkin", headers={"Accept": "application/json"},
                                data={"csrf_token": tokens[i], "scan": f"{base}/t/{ticket}", "nonce": f"may-{i}"})

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(scan, range(6)))
    for browser in scanners:
        browser.close()
    assert [a.status_code for a in answers] == [200] * 6
    assert sorted(a.json()["first_time"] for a in answers) == [False] * 5 + [True]
    assert all("Lê Thị Hoa" in a.json()["message"] for a in answers)
    fresh(db)
    assert db.exec(select(Registration.checked_in_at).where(Registration.event_id == event.id)).scalar()


class Lock:
    """Hold the write lock a registration needs, from outside the server."""

    def __init__(self, settings, engine, event_id: int) -> None:
        self.settings, self.engine, self.event_id = settings, engine, event_id
        self.held, self.release = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._hold, daemon=True)

    def _hold(self) -> None:
        if ON_POSTGRES:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT id FROM events_event WHERE id = :id FOR UPDATE"), {"id": self.event_id})
                self.held.set()
                self.release.wait(60)
                conn.rollback()
            return
        conn = sqlite3.connect(self.settings.resolved_database_url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        self.held.set()
        self.release.wait(60)
        conn.execute("ROLLBACK")
        conn.close()

    def __enter__(self) -> "Lock":
        self.thread.start()
        assert self.held.wait(10)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release.set()
        self.thread.join(10)


def _registration_form(base: str, code: str, village_id: int, phone: str) -> tuple[httpx.Client, dict]:
    browser = httpx.Client(base_url=base, timeout=60)
    page = browser.get(f"/e/{code}").text
    data = {"csrf_token": TOKEN.search(page).group(1),
            "idempotency_key": re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1),
            "full_name": "Trần Văn Bình", "phone": phone, "village_id": str(village_id),
            "audience": "nguoi-dan", "consent": "on"}
    return browser, data


def test_health_answers_while_a_registration_waits_for_a_lock(live_server, client, db, settings, engine):
    places, _, event = staff_with_event(client, db, settings)
    base = live_server(workers=1)
    browser, data = _registration_form(base, event.code, places.villages[0].id, "0977000111")
    answers: list[int] = []
    with Lock(settings, engine, event.id):
        waiting = threading.Thread(target=lambda: answers.append(browser.post(f"/e/{event.code}", data=data)
                                                                 .status_code))
        waiting.start()
        time.sleep(0.5)  # the registration is now waiting for the lock
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            assert httpx.get(f"{base}/healthz", timeout=5).json()["status"] == "ok"
            timings.append(time.perf_counter() - started)
        assert not answers, "the registration should still be waiting"
    waiting.join(30)
    browser.close()
    assert answers == [303]
    # A worker blocked by the lock would answer none of them until it is released (seconds);
    # the fastest probe shows the worker's own speed, the slowest the machine's load.
    assert min(timings) < 0.1, timings
    assert max(timings) < 0.5 and statistics.median(timings) < 0.25, timings


def test_a_lock_held_past_the_timeout_says_busy_try_again(live_server, client, db, settings, engine):
    places, _, event = staff_with_event(client, db, settings)
    base = live_server(workers=1, LMS_DATABASE_LOCK_TIMEOUT_SECONDS="1")
    browser, data = _registration_form(base, event.code, places.villages[0].id, "0977000222")
    with Lock(settings, engine, event.id):
        started = time.perf_counter()
        response = browser.post(f"/e/{event.code}", data=data)
        waited = time.perf_counter() - started
    assert response.status_code == 503 and response.headers["retry-after"].isdigit()
    assert "đang bận" in response.text and waited < 10
    # Nothing was stored; sending the same form again now works.
    fresh(db)
    assert db.exec(select(func.count()).select_from(Registration)).one()[0] == 0
    assert browser.post(f"/e/{event.code}", data=data).status_code == 303
    browser.close()
