"""Start a real `lms serve` on a fresh instance for a benchmark; stop it afterwards."""

import os
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import httpx2 as httpx


@contextmanager
def running_server(workers: int = 1, database_url: str | None = None, extra_env: dict | None = None):
    """Yields (base_url, env). SQLite in a temporary folder unless database_url is given."""
    with tempfile.TemporaryDirectory(prefix="hocvuso-bench-") as tmp:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
        env.update({"LMS_INSTANCE_DIR": str(Path(tmp) / "instance"),
                    "LMS_BASE_URL": f"http://127.0.0.1:{port}", **(extra_env or {})})
        if database_url:
            env["LMS_DATABASE_URL"] = database_url
        lms = [sys.executable, "-m", "lms"]
        for command in (["migrate"], ["courses", "sync"], ["places", "demo"]):
            subprocess.run(lms + command, env=env, check=True, capture_output=True)
        log = open(Path(tmp) / "server.log", "w")  # noqa: SIM115 - closed below
        process = subprocess.Popen(lms + ["serve", "--port", str(port), "--workers", str(workers)],
                                   env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError((Path(tmp) / "server.log").read_text())
                time.sleep(0.2)
            _settle(database_url or f"sqlite:///{Path(tmp) / 'instance' / 'hocvuso.db'}")
            yield base, env
        finally:
            process.terminate()
            process.wait(timeout=10)
            log.close()


def _settle(database_url: str, seconds: float = 120) -> None:
    """Wait until the workers have delivered what the set-up commands raised (the sync's
    content_changed rebuilds the Hỏi đáp index): a benchmark measures a running site, not its
    first minute."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                if not conn.exec_driver_sql("SELECT count(*) FROM core_outbox WHERE delivered_at IS NULL").scalar():
                    return
            time.sleep(0.2)
        raise RuntimeError("events raised at set-up still undelivered")
    finally:
        engine.dispose()


def worker_pids(port: int) -> list[int]:
    """The worker processes of the `lms serve` listening on `port` (the server itself with one worker)."""
    parents = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()
               and f"--port\0{port}\0".encode() in _read(p / "cmdline")]
    out = []
    for parent in parents:
        for child in Path(f"/proc/{parent}/task/{parent}/children").read_text().split():
            if b"spawn_main" in _read(Path(f"/proc/{child}/cmdline")):  # not the resource tracker
                out.append(int(child))
    return out or parents


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time the processes have used, in seconds (time stolen by the
    hypervisor of a shared machine is not counted, unlike wall-clock time)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = _read(Path(f"/proc/{pid}/stat")).rsplit(b")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def rss_mb(pid: int) -> float:
    status = _read(Path(f"/proc/{pid}/status")).decode()
    return next(int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmRSS:"))


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""
