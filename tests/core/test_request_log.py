"""The request log (lms.logs): one JSON line per request with its id and the route's pattern,
never a token or a query string; the id sent back in X-Request-ID and shown on error pages."""

import json
import logging
import re
import secrets
import threading
import time
from datetime import datetime

import httpx2 as httpx
import pytest
from fastapi import Request
from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient

from lms import security as access
from lms.logs import JsonFormatter, RequestIdFilter, request_id_for
from tests.factories import text_of

MADE = re.compile(r"[0-9a-f]{12}")
FORMAT = JsonFormatter()


@pytest.fixture
def request_lines(caplog):
    caplog.set_level(logging.INFO, logger="lms.request")

    def lines(request_id: str | None = None) -> list[dict]:
        found = [json.loads(FORMAT.format(r)) for r in caplog.records if r.name == "lms.request"]
        return [line for line in found if request_id is None or line.get("request_id") == request_id]

    return lines


def test_each_request_writes_one_json_line_with_its_id(client, request_lines):
    response = client.get("/healthz", headers={"X-Request-ID": "proxy-id_0001"})
    assert response.headers["x-request-id"] == "proxy-id_0001"
    [line] = request_lines("proxy-id_0001")
    assert {"time", "level", "logger", "request_id", "method", "route", "status", "duration_ms", "kept"} <= set(line)
    assert (line["level"], line["logger"], line["method"], line["route"], line["status"], line["kept"]) == \
        ("info", "lms.request", "GET", "/healthz", 200, False)
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert datetime.fromisoformat(line["time"]).tzinfo is not None


@pytest.mark.parametrize("path, route", [
    ("/password/{}", "/password/{token}"), ("/t/{}", "/t/{token}"), ("/k/{}", "/k/{token}"),
])
def test_a_token_in_the_path_never_reaches_the_log(client, request_lines, caplog, path, route):
    token = secrets.token_urlsafe(24)
    response = client.get(path.format(token) + "?phone=0912345678&ref=zalo")
    [line] = request_lines(response.headers["x-request-id"])
    assert line["route"] == route and line["status"] == response.status_code
    for record in caplog.records:
        written = FORMAT.format(record)
        assert token not in written and "0912345678" not in written and "zalo" not in written


def test_a_page_nobody_has_is_logged_without_its_address(client, request_lines):
    response = client.get("/khong-co/abc123def?x=1")
    [line] = request_lines(response.headers["x-request-id"])
    assert (line["route"], line["status"]) == ("-", 404)
    assert "abc123def" not in json.dumps(line)


@pytest.mark.parametrize("sent", ["short", "a" * 200, "has space 123", "semi;colon12", "dấu-tiếng-việt",
                                  "quote\"d123456"])
def test_a_bad_request_id_is_replaced(client, request_lines, sent):
    response = client.get("/healthz", headers={"X-Request-ID": sent.encode()})
    made = response.headers["x-request-id"]
    assert MADE.fullmatch(made) and made != sent
    assert [line["route"] for line in request_lines(made)] == ["/healthz"]


def test_a_header_a_client_cannot_even_send_is_replaced():
    # What httpx refuses to send, a raw client can: the guard's own check.
    for sent in ("line\nbreak1234", "tab\tinside1234", "x" * 65, "x" * 7, "", None):
        assert MADE.fullmatch(request_id_for(sent))
    for kept in ("12345678", "A" * 64, "req_id-0A"):
        assert request_id_for(kept) == kept


def test_each_request_without_an_id_gets_its_own(client):
    ids = {client.get("/healthz").headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5 and all(MADE.fullmatch(i) for i in ids)


def test_a_kept_page_is_logged_as_kept_with_its_own_id(app, client, make_client, request_lines):
    first = client.get("/courses")
    second = make_client().get("/courses")
    assert second.headers.get_list("x-request-id") == [second.headers["x-request-id"]]
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    [made] = request_lines(first.headers["x-request-id"])
    [kept] = request_lines(second.headers["x-request-id"])
    assert (made["kept"], kept["kept"]) == (False, True)
    assert (kept["route"], kept["status"]) == ("/courses", 200)


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[dict] = []
        self.addFilter(RequestIdFilter())
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        # Formatted on another thread, as the server's log writer does (lms.core.commands):
        # the request is not known there.
        writer = threading.Thread(target=lambda: self.lines.append(json.loads(self.format(record))))
        writer.start()
        writer.join()


def test_other_loggers_carry_the_request_id_even_from_the_thread_pool(app, client):
    def noisy(request: Request) -> PlainTextResponse:
        logging.getLogger("lms.test_noisy").warning("đang xử lý")
        return PlainTextResponse("ok")

    app.router.add_api_route("/test-noisy", noisy, dependencies=[access.PUBLIC_ROUTE])
    handler = _Lines()
    logger = logging.getLogger("lms.test_noisy")
    logger.addHandler(handler)
    try:
        response = client.get("/test-noisy")
        logger.warning("outside a request")
    finally:
        logger.removeHandler(handler)
    inside, outside = handler.lines
    assert inside["request_id"] == response.headers["x-request-id"]
    assert (inside["level"], inside["logger"], inside["message"]) == ("warning", "lms.test_noisy", "đang xử lý")
    assert "request_id" not in outside


# --- The id on error pages --------------------------------------------------------------------


def _shown(page: str) -> str:
    found = re.search(r"đọc mã này: <strong>([A-Za-z0-9_-]+)</strong>", page)
    assert found, page[-600:]
    return found.group(1)


def test_a_missing_page_shows_its_request_id(client):
    response = client.get("/khong-co-trang-nay")
    assert response.status_code == 404
    assert _shown(response.text) == response.headers["x-request-id"]
    assert "Nếu cần hỏi cán bộ" in text_of(response.text)


def test_a_page_refused_by_the_guard_shows_its_request_id(client):
    response = client.post("/login", data={}, headers={"Origin": "https://lua-dao.example"})
    assert response.status_code == 403
    assert _shown(response.text) == response.headers["x-request-id"]


def test_a_forbidden_page_shows_the_id_the_proxy_gave(client, db, settings):
    from tests.factories import login, make_places, make_user

    places = make_places(db)
    login(client, make_user(db, settings, role="learner", commune=places.commune).phone)
    response = client.get("/staff", headers={"X-Request-ID": "nginx-abcdef12"})
    assert response.status_code == 403
    assert _shown(response.text) == "nginx-abcdef12" == response.headers["x-request-id"]


def test_an_unexpected_error_shows_and_logs_its_request_id(app, caplog):
    def broken(request: Request) -> PlainTextResponse:
        raise RuntimeError("hỏng")

    app.router.add_api_route("/test-broken", broken, dependencies=[access.PUBLIC_ROUTE])
    caplog.set_level(logging.INFO, logger="lms")
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/test-broken")
    assert response.status_code == 500
    request_id = response.headers["x-request-id"]
    assert _shown(response.text) == request_id
    [error] = [r for r in caplog.records if r.name == "lms" and "unexpected" in r.getMessage()]
    assert json.loads(FORMAT.format(error))["request_id"] == request_id
    [line] = [json.loads(FORMAT.format(r)) for r in caplog.records
              if r.name == "lms.request" and r.request_id == request_id]
    assert (line["route"], line["status"]) == ("/test-broken", 500)


def test_a_page_without_trouble_shows_no_id(client):
    response = client.get("/")
    assert response.headers["x-request-id"] not in response.text


# --- The real server --------------------------------------------------------------------------


def test_the_server_writes_json_lines(live_server, tmp_path):
    base = live_server(workers=1)
    token = secrets.token_urlsafe(24)
    response = httpx.get(f"{base}/password/{token}?code=424242", headers={"X-Request-ID": "live-test-0001"})
    assert response.headers["x-request-id"] == "live-test-0001"
    [log] = tmp_path.glob("server-*.log")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "live-test-0001" not in log.read_text():
        time.sleep(0.1)  # the log is written by a thread of its own
    lines = []
    for raw in log.read_text().splitlines():
        if raw.startswith("{"):
            lines.append(json.loads(raw))
        else:
            # No line in the old "LEVEL name: message" shape: what is not JSON is what `lms serve`
            # prints for the person starting it (the set-up link).
            assert not raw.startswith(("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")), raw
    [line] = [line for line in lines if line.get("request_id") == "live-test-0001"]
    assert (line["logger"], line["route"], line["method"], line["status"]) == \
        ("lms.request", "/password/{token}", "GET", response.status_code)
    assert any(line["logger"].startswith("uvicorn") for line in lines)  # the server's own lines too
    assert token not in log.read_text() and "424242" not in log.read_text()
