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
            yield base, env
        finally:
            process.terminate()
            process.wait(timeout=10)
            log.close()
