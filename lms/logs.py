"""Structured logs: one JSON object a line, each with the request id when a request wrote it.

The request log (logger "lms.request") writes one line per request: time, level, request_id,
method, route (the route's pattern, never the raw path: paths carry tokens), status,
duration_ms and kept (a visitor's page served from the worker's copy). Never a phone, a name,
a token or a query string. A request id comes from the request's X-Request-ID when it is a
plain short word (a proxy's id ties the two logs together), else it is made here; the answer
sends it back and error pages show it, so a resident can read it out to the staff."""

import json
import logging
import re
import secrets
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

REQUEST_ID_HEADER = b"x-request-id"
# Letters, digits, - and _ only: nothing that could break a log line or a header.
_VALID_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
# The request being served by this task or thread (anyio copies it into the thread pool).
current_request_id: ContextVar[str | None] = ContextVar("lms_request_id", default=None)
# What a record may carry besides its message (the request log's fields).
FIELDS = ("method", "route", "status", "duration_ms", "kept")


def request_id_for(sent: str | None) -> str:
    """The id the request came with when it is well formed, else a new one (not a secret)."""
    if sent is not None and _VALID_ID.fullmatch(sent):
        return sent
    return secrets.token_hex(6)


class RequestIdFilter(logging.Filter):
    """Stamps each record with the current request's id, on the thread that logs it (the
    formatting happens later, on the log writer's thread, where the request is unknown)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, request_id, the fields, message."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        found = getattr(record, "request_id", None) or current_request_id.get()
        if found:
            line["request_id"] = found
        for key in FIELDS:
            if key in record.__dict__:
                line[key] = record.__dict__[key]
        line["message"] = record.getMessage()
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["error"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        # Vietnamese stays readable (and the tests' log watch can read names in it).
        return json.dumps(line, ensure_ascii=False, default=str)


_request_log = logging.getLogger("lms.request")


def log_request(*, request_id: str, method: str, route: str, status: int, seconds: float,
                kept: bool = False) -> None:
    duration_ms = round(seconds * 1000, 1)
    _request_log.info("%s %s %s %.1fms%s", method, route, status, duration_ms, " (kept page)" if kept else "",
                      extra={"request_id": request_id, "method": method, "route": route, "status": status,
                             "duration_ms": duration_ms, "kept": kept})


def server_config(base: dict) -> dict:
    """uvicorn's logging configuration with every line as JSON carrying the request id."""
    base["formatters"] = {name: {"()": "lms.logs.JsonFormatter"} for name in base.get("formatters", {})}
    base.setdefault("filters", {})["request_id"] = {"()": "lms.logs.RequestIdFilter"}
    for handler in base.get("handlers", {}).values():
        handler.setdefault("filters", []).append("request_id")
    return base
