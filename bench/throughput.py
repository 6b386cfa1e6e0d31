"""Throughput of ordinary pages against a bare FastAPI reference, measured in one run.

Starts our server (`lms serve`, SQLite, demo data) and the reference (bench/reference/app.py:
one row through a SQLModel session, one Jinja template) with the same worker count, warms both
up, then measures each page with wrk (32 connections), interleaved: reference, ours, reference,
ours, for several rounds. Prints req/s, p50 and p99 per page and the ratio ours/reference.
Targets (issue #17): anonymous lesson and catalog ≥ 0.7; signed-in lesson ≥ 0.5; certificate,
ticket and event form ≥ 0.5; p99 ≤ 4 × p50 for every page. Needs wrk (apt-get install wrk).

    python bench/throughput.py [--workers 2] [--rounds 3] [--seconds 5] [--pages 'catalog;ticket']
"""

import argparse
import os
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2 as httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._server import rss_mb, running_server, worker_pids  # noqa: E402

COURSE = "vneid-va-dich-vu-cong"
LESSON = f"/courses/{COURSE}/kich-hoat-muc-2"
TARGETS = {"lesson, anonymous": 0.7, "catalog": 0.7, "lesson, signed in": 0.5, "certificate": 0.5,
           "ticket": 0.5, "event form": 0.5}
PASSWORD = "mật khẩu đo thử 2026"  # noqa: S105 - an account of a throwaway benchmark database


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def _wrk(url: str, seconds: int, connections: int, cookie: str | None = None) -> tuple[float, float, float]:
    """(requests per second, p50 ms, p99 ms)."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{url}: {errors.group(1)} non-2xx answers\n{out}")

    def percentile(name: str) -> float:
        value, unit = re.search(rf"\s{name}%\s+([\d.]+)(us|ms|s)\b", out).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    return rate, percentile("50"), percentile("99")


def _pages(base: str, env: dict) -> tuple[dict[str, str], str]:
    """The pages to measure (name → URL) and a signed-in learner's cookie header."""
    database = Path(env["LMS_INSTANCE_DIR"]) / "hocvuso.db"
    subprocess.run([sys.executable, "-m", "lms", "demo-data", "--communes", "2", "--learners", "300"],
                   env=env, check=True, capture_output=True)
    with sqlite3.connect(database) as db:
        code = db.execute("SELECT code FROM certificates_certificate WHERE revoked_at IS NULL LIMIT 1").fetchone()[0]
        event = db.execute("SELECT code FROM events_event ORDER BY starts_at DESC LIMIT 1").fetchone()[0]
        token = db.execute("SELECT token FROM events_registration LIMIT 1").fetchone()[0]
        village = db.execute("SELECT id FROM core_place WHERE kind = 'village' AND active LIMIT 1").fetchone()[0]
    with httpx.Client(base_url=base, follow_redirects=False) as client:
        form = client.get("/signup").text
        csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', form).group(1)
        answer = client.post("/signup", data={
            "csrf_token": csrf, "full_name": "Người Đo Thử", "phone": "0912999888", "village_id": str(village),
            "audience": "nguoi-dan", "password": PASSWORD, "password_confirm": PASSWORD, "consent": "on"})
        assert answer.status_code == 303, answer.text[:500]
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    pages = {"lesson, anonymous": LESSON, "catalog": "/courses", "lesson, signed in": LESSON,
             "certificate": f"/c/{code}", "ticket": f"/t/{token}", "event form": f"/e/{event}"}
    return {name: base + path for name, path in pages.items()}, cookie


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--pages", default="",
                        help="only these pages, by name, separated by ';' (e.g. 'catalog;ticket')")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install wrk")
        return 1
    with tempfile.TemporaryDirectory(prefix="hocvuso-reference-") as tmp, \
            running_server(workers=args.workers, extra_env={
                "LMS_ARGON2_TIME_COST": "1",
                # wrk is one client: a limit it cannot reach, so the limit's own cost is what is measured.
                "LMS_VERIFY_RATE_LIMIT": "100000000"}) as (base, env):
        port = _free_port()
        reference_env = {**os.environ, "REFERENCE_DATABASE": str(Path(tmp) / "reference.db")}
        reference = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "bench.reference.app:app", "--port", str(port), "--workers",
             str(args.workers), "--log-level", "warning", "--no-access-log"],
            env=reference_env, cwd=Path(__file__).resolve().parent.parent,
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            reference_url = f"http://127.0.0.1:{port}/page"
            _wait(reference_url)
            pages, cookie = _pages(base, env)
            if args.pages:
                wanted = {name.strip() for name in args.pages.split(";")}
                pages = {name: url for name, url in pages.items() if name in wanted}
            for url in [reference_url, *pages.values()]:
                _wrk(url, 2, args.connections, cookie)  # warm up
            results: dict[str, list[tuple]] = {name: [] for name in pages}
            references: dict[str, list[tuple]] = {name: [] for name in pages}
            for _ in range(args.rounds):
                for name, url in pages.items():
                    references[name].append(_wrk(reference_url, args.seconds, args.connections))
                    signed_in = cookie if name == "lesson, signed in" else None
                    results[name].append(_wrk(url, args.seconds, args.connections, signed_in))
            rss = [rss_mb(pid) for pid in worker_pids(int(base.rsplit(":", 1)[1]))]
        finally:
            reference.terminate()
            reference.wait(timeout=10)
    print(f"{args.workers} workers, {args.connections} connections, {args.rounds} rounds of {args.seconds} s, "
          "interleaved with the reference")
    print(f"{'page':<20}{'ours req/s':>11}{'ref req/s':>11}{'ratio':>8}{'target':>8}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'p99/p50':>9}{'ref p99/p50':>13}")
    for name in pages:
        ours = statistics.median(r[0] for r in results[name])
        ref = statistics.median(r[0] for r in references[name])
        p50 = statistics.median(r[1] for r in results[name])
        p99 = statistics.median(r[2] for r in results[name])
        ref_tail = statistics.median(r[2] / r[1] for r in references[name])
        ratio = ours / ref
        ok = ratio >= TARGETS[name] and p99 <= 4 * p50
        print(f"{name:<20}{ours:>11.0f}{ref:>11.0f}{ratio:>8.2f}{TARGETS[name]:>8.2f}{p50:>9.1f}{p99:>9.1f}"
              f"{p99 / p50:>9.1f}{ref_tail:>13.1f}{'' if ok else '  ✗'}")
    print("worker memory after the run (target ≤ 150 MB each): " + ", ".join(f"{mb:.0f} MB" for mb in rss))
    return 0


if __name__ == "__main__":
    sys.exit(main())
