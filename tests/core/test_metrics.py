"""/metrics (lms.metrics): Prometheus's text format read back with prometheus_client's own parser,
the figures counting what the test itself did, who may read them, and several workers' figures
on any worker's /metrics."""

import os
import re
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import ClassVar

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select, text

from lms import metrics
from lms.app import create_app
from lms.core import recovery_services
from lms.core.models import OutboxEvent
from lms.errors import ServiceError
from lms.events import DomainEvent, record
from tests.core.test_web_guard import _hold_write_lock, _signup_data
from tests.factories import csrf, make_places

TOKEN = "scrape-token-for-tests-only-1234"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@dataclass(frozen=True)
class Tried(DomainEvent):
    name: ClassVar[str] = "tests.metrics_tried"
    number: int = 0


def families(body: str) -> dict:
    return {family.name: family for family in text_string_to_metric_families(body)}


def value(found: dict, family: str, sample: str | None = None, **labels: str) -> float:
    """The sample's value (0 when it is not there yet: a counter no request has touched)."""
    if family not in found:
        return 0.0
    for item in found[family].samples:
        if item.name == (sample or family) and all(item.labels.get(k) == v for k, v in labels.items()):
            return item.value
    return 0.0


def scrape(client) -> dict:
    response = client.get("/metrics", headers=BEARER)
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert response.headers["cache-control"] == "no-store"
    return families(response.text)


@pytest.fixture
def scraped(make_settings, engine):
    app = create_app(make_settings(metrics_token=TOKEN))
    with TestClient(app, follow_redirects=False) as client:
        yield app, client
    app.state.engine.dispose()


def _outbox_round_done() -> None:
    # The start-up delivery round (outbox_interval_seconds=0: once) must not race the counts.
    for thread in threading.enumerate():
        if thread.name == "lms-outbox":
            thread.join(10)


# --- What is counted --------------------------------------------------------------------------


def test_requests_are_counted_by_route_pattern_method_and_status(scraped):
    _app, client = scraped
    before = scrape(client)
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    assert client.get("/xa/987654321").status_code == 404
    assert client.get("/khong-co-trang-nay-42").status_code == 404
    response = client.get("/metrics", headers=BEARER)
    after = families(response.text)
    counted = "lms_http_requests"  # the parser names a counter's family without _total

    def delta(**labels):
        return (value(after, counted, "lms_http_requests_total", **labels)
                - value(before, counted, "lms_http_requests_total", **labels))

    assert delta(route="/healthz", method="GET", status="200") == 3
    assert delta(route="/xa/{commune_id}", method="GET", status="404") == 1
    assert delta(route="-", method="GET", status="404") == 1
    # The pattern, never the address asked for.
    assert "987654321" not in response.text and "khong-co-trang-nay" not in response.text
    histogram = "lms_http_request_duration_seconds"
    assert after[histogram].type == "histogram"
    buckets = [s.labels["le"] for s in after[histogram].samples
               if s.name == f"{histogram}_bucket" and s.labels["route"] == "/healthz"]
    assert buckets == ["0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0", "+Inf"]
    assert (value(after, histogram, f"{histogram}_count", route="/healthz")
            - value(before, histogram, f"{histogram}_count", route="/healthz")) == 3
    assert value(after, histogram, f"{histogram}_bucket", route="/healthz", le="+Inf") == \
        value(after, histogram, f"{histogram}_count", route="/healthz")


def test_kept_pages_are_counted_too(scraped, make_client):
    app, client = scraped
    before = scrape(client)
    assert client.get("/courses").status_code == 200
    with TestClient(app, follow_redirects=False) as other:
        assert other.get("/courses").status_code == 200  # served from the kept page
        after = scrape(other)
    assert (value(after, "lms_http_requests", "lms_http_requests_total", route="/courses", status="200")
            - value(before, "lms_http_requests", "lms_http_requests_total", route="/courses", status="200")) == 2


def test_a_method_nobody_uses_is_counted_as_other(scraped):
    _app, client = scraped
    before = scrape(client)
    client.request("FROBNICATE", "/healthz")
    after = scrape(client)
    assert (value(after, "lms_http_requests", "lms_http_requests_total", route="/healthz", method="other")
            - value(before, "lms_http_requests", "lms_http_requests_total", route="/healthz", method="other")) == 1
    assert "FROBNICATE" not in str(after)


def test_undelivered_events_are_read_from_the_outbox_and_events_count_by_type(scraped, db):
    app, client = scraped
    _outbox_round_done()
    before = scrape(client)
    for number in range(3):
        record(db, Tried(number=number))
    db.commit()
    record(db, Tried(number=99))
    db.rollback()  # never happened: not counted
    db.info["lms_pm"] = app.state.pm
    record(db, Tried(number=100))  # nobody listens: recorded as delivered at once
    db.commit()
    del db.info["lms_pm"]
    after = scrape(client)
    pending = db.exec(select(func.count()).select_from(OutboxEvent)
                      .where(OutboxEvent.delivered_at.is_(None))).one()[0]
    recorded = db.exec(select(func.count()).select_from(OutboxEvent)).one()[0]
    assert pending >= 3 and recorded > pending
    assert value(after, "lms_events_undelivered") == pending
    assert value(after, "lms_events_oldest_undelivered_age_seconds") >= 0
    assert value(after, "lms_database_up") == 1
    events = "lms_domain_events"
    assert (value(after, events, f"{events}_total", type="tests.metrics_tried")
            - value(before, events, f"{events}_total", type="tests.metrics_tried")) == 4


def test_the_events_plugin_counts_registrations_by_their_type(scraped, db):
    """What the README's "registrations per minute" reads: the events plugin's own event type."""
    from lms.plugins.events.events import CheckedIn, EventRegistered

    _app, client = scraped
    before = scrape(client)
    record(db, EventRegistered(registration_id=1, event_id=1, user_id=1, by_helper=False))
    record(db, CheckedIn(registration_id=1, event_id=1, user_id=1))
    record(db, CheckedIn(registration_id=2, event_id=1, user_id=2))
    db.commit()
    after = scrape(client)
    events = "lms_domain_events"

    def delta(kind):
        return value(after, events, f"{events}_total", type=kind) - value(before, events, f"{events}_total", type=kind)

    assert (delta("events.registered"), delta("events.checked_in")) == (1, 2)


def test_database_errors_and_busy_answers_are_counted(make_settings, engine, db):
    places = make_places(db)
    settings = make_settings(database_lock_timeout_seconds=0.5, metrics_token=TOKEN)
    app = create_app(settings)
    with TestClient(app, follow_redirects=False) as client:
        before = scrape(client)
        with pytest.raises(Exception), app.state.engine.connect() as conn:  # noqa: B017 - the driver's own
            conn.execute(text("SELECT * FROM no_such_table_here"))
        token = csrf(client, "/signup")
        release, held = threading.Event(), threading.Event()
        holder = threading.Thread(target=_hold_write_lock, args=(settings, engine, release, held))
        holder.start()
        assert held.wait(10)
        try:
            busy = client.post("/signup", data={**_signup_data(places.villages[0].id), "csrf_token": token})
        finally:
            release.set()
            holder.join()
        assert busy.status_code == 503
        after = scrape(client)
    app.state.engine.dispose()
    assert value(after, "lms_database_busy", "lms_database_busy_total") - \
        value(before, "lms_database_busy", "lms_database_busy_total") == 1

    def errors(found):
        family = found.get("lms_database_errors")
        return sum(s.value for s in family.samples if s.name == "lms_database_errors_total") if family else 0

    assert errors(after) - errors(before) >= 1  # the missing table (and the lock wait on PostgreSQL)
    assert busy.headers["x-request-id"] in busy.text


class _Gateway:
    def __init__(self, name: str, fails: bool) -> None:
        self.name, self.fails = name, fails

    def send(self, phone: str, text: str) -> None:
        if self.fails:
            raise RuntimeError("provider down")


def test_text_messages_are_counted_by_gateway_and_outcome_never_the_phone(scraped, fresh_timing):
    _app, client = scraped
    before = scrape(client)
    recovery_services._send(_Gateway("test-ok", fails=False), "0912345678", "Mã 123456")
    for _ in range(2):
        with pytest.raises(ServiceError):
            recovery_services._send(_Gateway("test-down", fails=True), "0912345678", "Mã 123456")
    response = client.get("/metrics", headers=BEARER)
    after = families(response.text)

    def delta(**labels):
        return value(after, "lms_sms", "lms_sms_total", **labels) - value(before, "lms_sms", "lms_sms_total", **labels)

    assert delta(gateway="test-ok", outcome="sent") == 1
    assert delta(gateway="test-down", outcome="failed") == 2
    assert delta(gateway="test-down", outcome="sent") == 0
    assert "0912345678" not in response.text and "123456" not in response.text


# --- Who may read them ------------------------------------------------------------------------


def test_off_without_a_token_or_addresses(client):
    response = client.get("/metrics", headers=BEARER)
    assert response.status_code == 404
    assert "lms_" not in response.text


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer wrong-token"}, {"Authorization": f"Basic {TOKEN}"},
    {"Authorization": f"Bearer {TOKEN}x"}, {"Authorization": TOKEN}, {"Authorization": "Bearer é".encode()},
])
def test_a_wrong_token_sees_no_figures(scraped, headers):
    _app, client = scraped
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 403
    assert "lms_http_requests" not in response.text and "# TYPE" not in response.text


def test_the_right_token_reads_them(scraped):
    _app, client = scraped
    assert "lms_http_requests" in scrape(client)
    assert client.get("/metrics", headers={"Authorization": f"bearer {TOKEN}"}).status_code == 200


def test_tokens_are_compared_in_constant_time():
    import inspect

    assert "hmac.compare_digest" in inspect.getsource(metrics._token_ok)


def _get(app, address: str, **headers: str):
    with TestClient(app, follow_redirects=False, client=(address, 50000)) as client:
        return client.get("/metrics", headers=headers)


def test_the_address_list_alone(make_settings, engine):
    app = create_app(make_settings(metrics_allow="192.0.2.0/24, 2001:db8::1"))
    assert _get(app, "192.0.2.17").status_code == 200
    assert _get(app, "2001:db8::1").status_code == 200
    refused = _get(app, "198.51.100.4")
    assert refused.status_code == 403 and "# TYPE" not in refused.text
    assert _get(app, "testclient").status_code == 403  # not an address at all
    app.state.engine.dispose()


def test_the_address_is_the_client_behind_trusted_proxies_only(make_settings, engine):
    app = create_app(make_settings(metrics_allow="192.0.2.0/24", trusted_proxies="10.0.0.1"))
    assert _get(app, "10.0.0.1", **{"X-Forwarded-For": "192.0.2.9"}).status_code == 200
    assert _get(app, "10.0.0.1", **{"X-Forwarded-For": "198.51.100.4"}).status_code == 403
    # From anyone else the header is not believed.
    assert _get(app, "198.51.100.4", **{"X-Forwarded-For": "192.0.2.9"}).status_code == 403
    app.state.engine.dispose()


def test_a_token_and_addresses_are_both_required(make_settings, engine):
    app = create_app(make_settings(metrics_allow="192.0.2.0/24", metrics_token=TOKEN))
    assert _get(app, "192.0.2.9", **BEARER).status_code == 200
    assert _get(app, "192.0.2.9").status_code == 403
    assert _get(app, "198.51.100.4", **BEARER).status_code == 403
    app.state.engine.dispose()


def test_a_wrong_address_list_stops_the_start(make_settings, engine):
    with pytest.raises(ValueError):
        create_app(make_settings(metrics_allow="192.0.2.0/24, not-an-address"))


def test_the_route_has_a_public_policy_and_stays_out_of_the_api_document(app):
    from lms.security import PUBLIC, app_routes, route_policy

    [route] = [r for r in app_routes(app) if r.path == "/metrics"]
    assert route_policy(route) == PUBLIC
    assert "/metrics" not in app.openapi()["paths"]


# --- Several workers --------------------------------------------------------------------------


def test_a_server_started_by_mistake_leaves_the_running_ones_figures(tmp_path):
    import subprocess

    running = subprocess.Popen(["sleep", "30"])
    try:
        (tmp_path / str(running.pid)).mkdir()
        (tmp_path / str(running.pid) / "counter_7.db").write_bytes(b"its figures")
        (tmp_path / "999999999").mkdir()
        folder = metrics.server_directory(tmp_path)
        assert folder == tmp_path / str(os.getpid()) and not any(folder.iterdir())
        assert (tmp_path / str(running.pid) / "counter_7.db").exists()
        assert not (tmp_path / "999999999").exists()
    finally:
        running.kill()
        running.wait()


def _worker_counts(folder, route: str) -> dict[int, float]:
    """What each worker's own file holds for the route (prometheus_client's own reader)."""
    from prometheus_client.multiprocess import MultiProcessCollector

    out = {}
    for path in folder.glob("counter_*.db"):
        pid = int(path.stem.split("_")[1])
        for metric in MultiProcessCollector.merge([str(path)]):
            for sample in metric.samples:
                if sample.name == "lms_http_requests_total" and sample.labels.get("route") == route:
                    out[pid] = out.get(pid, 0) + sample.value
    return out


def _live_workers(folder) -> set[int]:
    return {int(m.group(1)) for p in folder.glob("gauge_livesum_*.db") if (m := re.search(r"_(\d+)\.db$", p.name))}


def _scrape_live(base: str) -> dict:
    response = httpx.get(f"{base}/metrics", headers=BEARER, timeout=10)  # a new connection each time
    assert response.status_code == 200
    return families(response.text)


def test_two_workers_figures_on_either_workers_page(live_server, settings):
    parent = settings.instance_dir / "metrics"
    (parent / "999999999").mkdir(parents=True)  # a server no longer running
    (parent / "999999999" / "counter_1.db").write_bytes(b"left over")
    (parent / "counter_2.db").write_bytes(b"left over")
    base = live_server(workers=2, LMS_METRICS_TOKEN=TOKEN)
    [folder] = parent.iterdir()  # this server's, new: the old ones are gone
    assert folder.name.isdigit() and folder.name != "999999999"
    route = "/readyz"
    sent = 0
    deadline = time.monotonic() + 60
    # Fresh connections from several threads until both workers have answered some.
    with ThreadPoolExecutor(8) as pool:
        while len(_worker_counts(folder, route)) < 2 and time.monotonic() < deadline:
            statuses = list(pool.map(lambda _: httpx.get(f"{base}{route}", timeout=10).status_code, range(40)))
            assert statuses == [200] * 40
            sent += 40
    per_worker = _worker_counts(folder, route)
    assert len(per_worker) == 2, per_worker
    assert sum(per_worker.values()) == sent
    # Whichever worker answers the scrape shows both workers' requests.
    for _ in range(6):
        found = _scrape_live(base)
        assert value(found, "lms_http_requests", "lms_http_requests_total", route=route, method="GET",
                     status="200") == sent
        assert value(found, "lms_http_request_duration_seconds", "lms_http_request_duration_seconds_count",
                     route=route) == sent
        assert value(found, "lms_workers") == 2
        assert value(found, "lms_events_undelivered") >= 0 and "lms_events_undelivered" in found

    # A worker killed outright: the server starts another; the dead one no longer counts as
    # serving, and what it counted stays in the totals.
    victim = sorted(_live_workers(folder))[0]
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(_live_workers(folder) - {victim}) < 2:
        time.sleep(0.2)
    assert len(_live_workers(folder) - {victim}) == 2
    found = _scrape_live(base)
    assert value(found, "lms_workers") == 2
    assert victim not in _live_workers(folder)  # marked dead at the scrape
    assert value(found, "lms_http_requests", "lms_http_requests_total", route=route, status="200") == sent
