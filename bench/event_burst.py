"""A hall full of phones registering for one event at once, against the real server.

Sends N registrations from C concurrent clients (some retried with the same
idempotency key, as a double tap or a timeout does; with --typo-every K every K-th
person types a 9-digit phone and must get the form back), then checks the database:
registrations == distinct valid phones, no duplicates, no 5xx, no request left without
an answer within the client timeout. Prints registrations per second and p95 latency.

    python bench/event_burst.py                      # N=500, C=100, SQLite, 2 workers
    python bench/event_burst.py --postgres --workers 4
    python bench/event_burst.py -n 200 -c 50 --typo-every 5
"""

import argparse
import http.client
import re
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')
VILLAGE = re.compile(r'<option value="(\d+)"')


@dataclass
class BurstResult:
    sent: int = 0
    retried: int = 0
    typos: int = 0
    timeouts: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    server_cpu: float = 0.0  # the workers' CPU seconds during the burst
    errors: list[str] = field(default_factory=list)
    # Client threads count together: `x[k] = x.get(k) + 1` is not atomic.
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, status: int | None, seconds: float) -> None:
        with self.lock:
            self.sent += 1
            self.latencies.append(seconds)
            if status is None:
                self.timeouts += 1
            else:
                self.statuses[status] = self.statuses.get(status, 0) + 1

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)

    def p95(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[int(0.95 * (len(ordered) - 1))] if ordered else 0.0


class _Phone:
    """One person's phone: its own connection and cookies. The standard library's client, because
    on a 2-core machine a heavier client would take the CPU the server is being measured on."""

    def __init__(self, base: str, timeout: float) -> None:
        address = urlsplit(base)
        self.connection = http.client.HTTPConnection(address.hostname, address.port, timeout=timeout)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        text = response.read().decode()
        for header in response.headers.get_all("Set-Cookie") or ():
            name, _, value = header.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()
        return response.status, text

    def close(self) -> None:
        self.connection.close()


def _one(base: str, code: str, index: int, retry: bool, typo: bool, result: BurstResult,
         timeout: float) -> None:
    # A typo: one digit short, as people do (the form must come back, nothing stored).
    phone = f"09{index + 30_000_000:08d}"[:9] if typo else f"09{index + 30_000_000:08d}"
    client = _Phone(base, timeout)
    try:
        _, page = client.request("GET", f"/e/{code}")
        data = {"csrf_token": TOKEN.search(page).group(1), "idempotency_key": KEY.search(page).group(1),
                "full_name": "Người Dự Thử", "phone": phone, "village_id": VILLAGE.search(page).group(1),
                "audience": "nguoi-dan", "consent": "on"}
        for _ in range(2 if retry else 1):
            started = time.perf_counter()
            try:
                status, _ = client.request("POST", f"/e/{code}", data)
            except TimeoutError:
                result.count(None, time.perf_counter() - started)
                raise
            result.count(status, time.perf_counter() - started)
    finally:
        client.close()


def burst(base: str, code: str, *, total: int, concurrency: int, retry_every: int = 10,
          typo_every: int = 0, timeout: float = 60) -> BurstResult:
    result = BurstResult()
    started = time.perf_counter()

    def typo(i: int) -> bool:
        return bool(typo_every) and i % typo_every == typo_every - 1

    with ThreadPoolExecutor(concurrency) as pool:
        futures = [pool.submit(_one, base, code, i, i % retry_every == 0, typo(i), result, timeout)
                   for i in range(total)]
        for future in futures:
            try:
                future.result()
            except Exception as exc:  # noqa: BLE001 - every failure is reported
                result.errors.append(repr(exc))
    result.seconds = time.perf_counter() - started
    result.retried = sum(1 for i in range(total) if i % retry_every == 0)
    result.typos = sum(1 for i in range(total) if typo(i))
    return result


def check_database(database_url: str, code: str) -> tuple[int, int, int]:
    """(registrations, distinct phones, duplicated phones) for the event."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        event_id = conn.execute(sa.text("SELECT id FROM events_event WHERE code = :c"), {"c": code}).scalar()
        rows, phones = conn.execute(sa.text(
            "SELECT count(*), count(DISTINCT phone) FROM events_registration WHERE event_id = :e"),
            {"e": event_id}).one()
        duplicated = conn.execute(sa.text(
            "SELECT count(*) FROM (SELECT phone FROM events_registration WHERE event_id = :e "
            "GROUP BY phone HAVING count(*) > 1) d"), {"e": event_id}).scalar()
    engine.dispose()
    return rows, phones, duplicated


def create_event(env: dict) -> str:
    """An open event in the demo commune, made through the services as staff would."""
    import subprocess

    script = (
        "from datetime import timedelta\n"
        "from sqlalchemy import select\n"
        "from lms.settings import Settings\n"
        "from lms.context import Context\n"
        "from lms.db import make_engine, write_session, utcnow\n"
        "from lms.core.models import Place, User\n"
        "from lms.plugins.events import services\n"
        "from lms.plugins.events.services import local\n"
        "settings = Settings()\n"
        "engine = make_engine(settings)\n"
        "with write_session(engine) as db:\n"
        "    commune = db.exec(select(Place).where(Place.kind == 'commune')).scalars().first()\n"
        "    staff = User(full_name='Cán Bộ Thử', phone='0900000001', role='staff', commune_id=commune.id)\n"
        "    db.add(staff); db.flush()\n"
        "at = lambda h: local(utcnow() + timedelta(hours=h)).strftime('%Y-%m-%dT%H:%M')\n"
        "data = services.EventInput(title='Lễ phát động', kind='le-phat-dong', place_text='Hội trường',\n"
        "                           starts_at=at(1), ends_at=at(4))\n"
        "event = services.save_event(Context(engine, None, settings), actor=staff, data=data,\n"
        "                            known_course_ids=set(), commune_id=commune.id)\n"
        "print(event.code)\n")
    done = subprocess.run([sys.executable, "-c", script], env=env, check=True, capture_output=True, text=True)
    return done.stdout.strip().splitlines()[-1]


def report(label: str, result: BurstResult, rows: int, phones: int, duplicated: int, total: int) -> bool:
    valid = total - result.typos
    lost = valid - phones
    ok = not result.errors and result.server_errors == 0 and lost == 0 and duplicated == 0 and rows == phones
    print(f"{label}: {total} people ({result.typos} with a typo), {result.sent} POSTs ({result.retried} retried), "
          f"{result.seconds:.1f} s, {valid / result.seconds:.0f} registrations/s, "
          f"p95 {result.p95() * 1000:.0f} ms, server CPU {1000 * result.server_cpu / max(1, result.sent):.1f} ms "
          f"per POST (with its form)")
    print(f"  statuses {dict(sorted(result.statuses.items()))}; in database: {rows} registrations, "
          f"{phones} distinct phones, {duplicated} duplicated, {lost} of {valid} valid lost; "
          f"5xx: {result.server_errors}, no answer: {result.timeouts}; "
          f"client errors: {len(result.errors)} -> {'ok' if ok else 'FAILED'}")
    for error in result.errors[:3]:
        print("  ", error)
    return ok


def main() -> int:
    from bench._server import cpu_seconds, running_server, worker_pids

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--total", type=int, default=500)
    parser.add_argument("-c", "--concurrency", type=int, default=100)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--typo-every", type=int, default=0, help="every K-th person types a 9-digit phone")
    parser.add_argument("--timeout", type=float, default=60, help="client timeout, seconds")
    parser.add_argument("--postgres", action="store_true", help="use 127.0.0.1:5432, database test")
    parser.add_argument("--threads", type=int, default=None, help="LMS_WORKER_THREADS of the server")
    args = parser.parse_args()
    database_url = None
    if args.postgres:
        import uuid

        import sqlalchemy as sa

        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/test",
                                 isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        database_url = f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    workers = args.workers or (4 if args.postgres else 2)
    try:
        extra = {"LMS_WORKER_THREADS": str(args.threads)} if args.threads else None
        with running_server(workers=workers, database_url=database_url, extra_env=extra) as (base, env):
            code = create_event(env)
            workers_of = worker_pids(int(base.rsplit(":", 1)[1]))
            cpu_before = cpu_seconds(workers_of)
            result = burst(base, code, total=args.total, concurrency=args.concurrency,
                           typo_every=args.typo_every, timeout=args.timeout)
            result.server_cpu = cpu_seconds(workers_of) - cpu_before
            url = database_url or f"sqlite:///{env['LMS_INSTANCE_DIR']}/hocvuso.db"
            rows, phones, duplicated = check_database(url, code)
            label = f"{'PostgreSQL' if args.postgres else 'SQLite'}, {workers} workers, C={args.concurrency}"
            ok = report(label, result, rows, phones, duplicated, args.total)
    finally:
        if args.postgres:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
