"""schemathesis against /openapi.json of the real server, anonymous and signed in as an
administrator (with a valid CSRF token, so forms are really processed): no answer is a 5xx."""

import re
import subprocess
import sys
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.events.eventtools import staff_with_event
from tests.factories import PASSWORD, make_user

SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")
TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
# Bounded for CI: a fixed seed and a few examples per operation.
EXAMPLES = "12"


def _signed_in_headers(base: str, phone: str) -> list[str]:
    with httpx.Client(base_url=base, timeout=30) as browser:
        token = TOKEN.search(browser.get("/login").text).group(1)
        assert browser.post("/login", data={"csrf_token": token, "phone": phone, "password": PASSWORD}
                            ).status_code == 303
        page_token = TOKEN.search(browser.get("/staff").text).group(1)
        cookies = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
    return ["-H", f"Cookie: {cookies}", "-H", f"X-CSRF-Token: {page_token}"]


def _fuzz(base: str, report: Path, extra: list[str]) -> tuple[int, list[str]]:
    command = [SCHEMATHESIS, "run", f"{base}/openapi.json", "--checks", "not_a_server_error",
               "--max-examples", EXAMPLES, "--seed", "20261201", "--request-timeout", "30",
               "--phases", "examples,coverage,fuzzing", "--continue-on-failure",
               # Every run the same: no examples remembered from earlier runs (nor a folder for them).
               "--generation-database", "none",
               # Signing out would drop the administrator for the rest of the run.
               "--exclude-path", "/logout", "--exclude-path-regex", "sessions/end$",
               "--report", "ndjson", "--report-ndjson-path", str(report), *extra]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    failures = []
    if report.exists():
        for line in report.read_text().splitlines():
            if "not_a_server_error" in line and '"status": "FAILURE"' in line.replace('":"', '": "'):
                failures.append(line[:300])
    return done.returncode, [done.stdout[-4000:]] + failures


@pytest.mark.parametrize("who", ["anonymous", "admin"])
def test_no_request_from_the_schema_gets_a_server_error(who, live_server, client, db, settings, tmp_path):
    places, _, _event = staff_with_event(client, db, settings)
    admin = make_user(db, settings, role="admin", name="Quản Trị Viên")
    base = live_server(workers=2)
    headers = _signed_in_headers(base, admin.phone) if who == "admin" else []
    returncode, output = _fuzz(base, tmp_path / f"{who}.ndjson", headers)
    assert returncode == 0, "\n".join(output)
