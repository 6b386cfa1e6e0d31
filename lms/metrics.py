"""Figures for whoever runs the site: /metrics in Prometheus's text format.

Requests by route pattern, method and status, and their time; database errors and "busy"
answers; text messages sent and failed by gateway; domain events by type; and, read from the
database at each scrape, the events not yet delivered. Never a path, a phone or a name.

Several workers (`lms serve --workers N`) each write their figures to files in one folder
(prometheus_client's multiprocess mode: PROMETHEUS_MULTIPROC_DIR, which `lms serve` points at
a new folder under instance/metrics/ before the workers start), so any worker's /metrics shows them
all. prometheus_client chooses its mode when first imported, so it is imported here on first
use, never when lms is imported. One process (tests, one worker) keeps them in memory.

/metrics is off (404) unless LMS_METRICS_TOKEN or LMS_METRICS_ALLOW is set; a request without
the token or from another address is refused (403) and sees no figure."""

import glob
import hmac
import ipaddress
import os
import re
import threading
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as OrmSession

from lms import security as access

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# From a kept page (a few ms) to a slow phone page on 3G.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Names of the events a session recorded, counted once it commits (lms.events.record).
EVENTS_KEY = "lms_metrics_events"
_LIVE_FILE = re.compile(r"gauge_live\w*?_(\d+)\.db$")


class _Figures:
    """The metrics, made on first use (after `lms serve` chose the mode)."""

    def __init__(self) -> None:
        from prometheus_client import Counter, Gauge, Histogram

        self.directory = os.environ.get(MULTIPROC_ENV) or None
        self.requests = Counter("lms_http_requests", "Requests answered, by route pattern, method and status.",
                                ["route", "method", "status"])
        self.latency = Histogram("lms_http_request_duration_seconds", "Time to answer a request, by route pattern.",
                                 ["route"], buckets=LATENCY_BUCKETS)
        self.database_errors = Counter("lms_database_errors", "Errors raised by the database, by kind.", ["kind"])
        self.database_busy = Counter("lms_database_busy",
                                     "Requests answered 'busy' (503): a write waited too long for a lock.")
        self.sms = Counter("lms_sms", "Text messages handed to a gateway, by gateway and outcome (sent, failed).",
                           ["gateway", "outcome"])
        self.events = Counter("lms_domain_events", "Domain events recorded (committed), by type.", ["type"])
        self.workers = Gauge("lms_workers", "Worker processes serving.", multiprocess_mode="livesum")
        self.workers.set(1)


_figures: _Figures | None = None
_lock = threading.Lock()


def figures() -> _Figures:
    global _figures
    if _figures is None:
        with _lock:
            if _figures is None:
                _figures = _Figures()
    return _figures


# --- What the app counts ----------------------------------------------------------------------


def request_done(route: str, method: str, status: int, seconds: float) -> None:
    found = figures()
    found.requests.labels(route, method if method in METHODS else "other", str(status)).inc()
    found.latency.labels(route).observe(seconds)


def database_busy() -> None:
    figures().database_busy.inc()


def sms_sent(gateway: str, ok: bool) -> None:
    figures().sms.labels(gateway, "sent" if ok else "failed").inc()


def event_recorded(db: Any, name: str) -> None:
    """Count this event once the session that records it commits (not if it rolls back)."""
    db.info.setdefault(EVENTS_KEY, []).append(name)


def _committed(session: Any) -> None:
    names = session.info.pop(EVENTS_KEY, None)
    if names:
        counter = figures().events
        for name in names:
            counter.labels(name).inc()


def _rolled_back(session: Any) -> None:
    session.info.pop(EVENTS_KEY, None)


def _database_error(context: Any) -> None:
    error = context.sqlalchemy_exception or context.original_exception
    figures().database_errors.labels(type(error).__name__).inc()


for _target, _name, _listener in ((OrmSession, "after_commit", _committed),
                                  (OrmSession, "after_rollback", _rolled_back),
                                  (Engine, "handle_error", _database_error)):
    if not event.contains(_target, _name, _listener):
        event.listen(_target, _name, _listener)


# --- Scraping ---------------------------------------------------------------------------------


class _Outbox:
    """Read at each scrape, once for the installation (so never summed across workers)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def collect(self) -> Any:
        from prometheus_client.core import GaugeMetricFamily

        from lms.core.models import OutboxEvent
        from lms.db import read_session, utcnow

        try:
            with read_session(self.engine) as db:
                count, oldest = db.execute(select(func.count(), func.min(OutboxEvent.created_at))
                                           .where(OutboxEvent.delivered_at.is_(None))).one()
        except Exception:  # noqa: BLE001 - the figures still answer; this one says the database did not
            yield GaugeMetricFamily("lms_database_up", "Whether the scrape could read the database.", value=0)
            return
        yield GaugeMetricFamily("lms_database_up", "Whether the scrape could read the database.", value=1)
        yield GaugeMetricFamily("lms_events_undelivered", "Domain events not yet delivered to every handler.",
                                value=count)
        age = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
        yield GaugeMetricFamily("lms_events_oldest_undelivered_age_seconds",
                                "Age of the oldest domain event not yet delivered; 0 when none.", value=max(age, 0.0))


class _Together:
    def __init__(self, *collectors: Any) -> None:
        self.collectors = collectors

    def collect(self) -> Any:
        for collector in self.collectors:
            yield from collector.collect()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _forget_dead_workers(directory: str) -> None:
    """A worker that died without saying so (killed, crashed) no longer counts as serving;
    what it counted stays in the totals."""
    from prometheus_client import multiprocess

    for path in glob.glob(os.path.join(directory, "gauge_live*.db")):
        found = _LIVE_FILE.search(os.path.basename(path))
        if found and int(found.group(1)) != os.getpid() and not _alive(int(found.group(1))):
            multiprocess.mark_process_dead(int(found.group(1)), directory)


def exposition(engine: Any) -> bytes:
    from prometheus_client import REGISTRY, CollectorRegistry, generate_latest

    found = figures()
    if found.directory:
        from prometheus_client import multiprocess

        _forget_dead_workers(found.directory)
        workers = CollectorRegistry()
        multiprocess.MultiProcessCollector(workers, found.directory)
        return generate_latest(_Together(workers, _Outbox(engine)))
    return generate_latest(_Together(REGISTRY, _Outbox(engine)))


def worker_stopped() -> None:
    """At a worker's orderly exit (the app's shutdown; uvicorn's workers run no atexit): it no
    longer counts among the live workers. One killed outright is found at the next scrape."""
    if _figures is not None and _figures.directory:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid(), _figures.directory)


def server_directory(parent: Path) -> Path:
    """A new, empty folder for the figures of this server's workers, made before they start
    (`lms serve`): parent/<this process's id>. Folders of servers no longer running go; one
    still running (a second `lms serve` started by mistake on the same instance, which then
    fails to bind) keeps its own."""
    import shutil

    parent.mkdir(parents=True, exist_ok=True)
    for path in parent.iterdir():
        if path.is_dir() and path.name.isdigit() and int(path.name) != os.getpid() and _alive(int(path.name)):
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    folder = parent / str(os.getpid())
    folder.mkdir()
    return folder


# --- The page ---------------------------------------------------------------------------------

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def allowed_networks(values: list[str]) -> list[Network]:
    """LMS_METRICS_ALLOW parsed; a wrong value stops the start, not every scrape."""
    return [ipaddress.ip_network(value.strip(), strict=False) for value in values if value.strip()]


def _token_ok(request: Request, token: str) -> bool:
    scheme, _, sent = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(sent.strip().encode(), token.encode())


def _address_ok(request: Request, networks: list[Network]) -> bool:
    # The client as lms.web resolved it (behind LMS_TRUSTED_PROXIES, the forwarded one).
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in networks)


router = APIRouter()


@router.get("/metrics", dependencies=[access.PUBLIC_ROUTE], include_in_schema=False)
def metrics_page(request: Request) -> Response:
    state = request.app.state
    settings = state.settings
    networks = getattr(state, "metrics_networks", None)
    if networks is None:
        networks = state.metrics_networks = allowed_networks(settings.metrics_allow)
    if not settings.metrics_token and not networks:
        raise HTTPException(404)
    if settings.metrics_token and not _token_ok(request, settings.metrics_token):
        raise HTTPException(403)
    if networks and not _address_ok(request, networks):
        raise HTTPException(403)
    # The classic text format (0.0.4): what every Prometheus reads; the names need no escaping.
    from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

    return Response(exposition(state.engine), media_type=CONTENT_TYPE_PLAIN_0_0_4,
                    headers={"Cache-Control": "no-store"})
