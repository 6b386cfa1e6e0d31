"""Per-request guard: body cap, CSRF check, the signed-in user, security headers, logging."""

import logging
import time
from datetime import timedelta
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy import select, update
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lms.db import utcnow, writer
from lms.security import (
    CSRF_COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    SESSION_COOKIE,
    csrf_token_for,
    csrf_valid,
    new_token,
    token_digest,
)

log = logging.getLogger("lms.request")

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    # Tickets and set-up links carry tokens in their paths; never pass them on.
    (b"referrer-policy", b"same-origin"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; object-src 'none'; "
        b"frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    ),
]
LAST_SEEN_EVERY = timedelta(hours=1)


class BodyTooLarge(Exception):
    pass


def load_user(engine: Any, session_token: str | None, user_model: Any, session_model: Any) -> Any:
    """The active user behind a session cookie, or None. One query, a write at most hourly."""
    if not session_token:
        return None
    digest = token_digest(session_token)
    now = utcnow()
    with Session(engine) as db:
        row = db.execute(
            select(user_model, session_model.last_seen_at)
            .join(session_model, session_model.user_id == user_model.id)
            .where(session_model.id == digest, session_model.expires_at > now)
            .where(user_model.active.is_(True))
        ).first()
        if row is None:
            return None
        user, last_seen = row
        db.expunge(user)
    if now - last_seen > LAST_SEEN_EVERY:
        with Session(writer(engine)) as db:
            db.execute(
                update(session_model).where(session_model.id == digest).values(last_seen_at=now)
            )
            db.commit()
    return user


class WebGuard:
    def __init__(self, app: ASGIApp, *, settings: Any, engine: Any, render_error: Any,
                 user_model: Any, session_model: Any) -> None:
        self.app = app
        self.settings = settings
        self.engine = engine
        self.secret = settings.resolved_secret_key()
        self.render_error = render_error
        self.user_model = user_model
        self.session_model = session_model

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status_holder = {"status": 500}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    if name.decode() not in headers:
                        headers.append(name.decode(), value.decode())
                if new_csrf_cookie:
                    headers.append("set-cookie", self._cookie(CSRF_COOKIE, new_csrf_cookie))
            await send(message)

        path: str = scope["path"]
        if path.startswith("/static/"):
            new_csrf_cookie = None
            await self.app(scope, receive, send_with_headers)
            return

        cookies = _cookies(scope)
        csrf_cookie = cookies.get(CSRF_COOKIE)
        new_csrf_cookie = None
        if not csrf_cookie:
            csrf_cookie = new_csrf_cookie = new_token(16)
        session_token = cookies.get(SESSION_COOKIE)
        user = await run_in_threadpool(
            load_user, self.engine, session_token, self.user_model, self.session_model
        )
        state = scope.setdefault("state", {})
        state["user"] = user
        state["session_token"] = session_token if user else None
        state["csrf_cookie"] = csrf_cookie
        state["csrf_token"] = csrf_token_for(self.secret, csrf_cookie, state["session_token"])

        if scope["method"] not in SAFE_METHODS:
            try:
                body = await _read_body(scope, receive, self.settings.max_body_bytes)
            except BodyTooLarge:
                await self._error(scope, send_with_headers, 413)
                return
            receive = _replay(body)
            sent = await _sent_csrf(scope, body)
            if not csrf_valid(self.secret, csrf_cookie, state["session_token"], sent):
                await self._error(scope, send_with_headers, 403, csrf=True)
                return
        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            route = scope.get("route")
            log.info(
                "%s %s %s %.1fms",
                scope["method"],
                getattr(route, "path", "-"),
                status_holder["status"],
                (time.perf_counter() - started) * 1000,
            )

    def _cookie(self, name: str, value: str) -> str:
        secure = "; Secure" if self.settings.secure_cookies else ""
        return f"{name}={value}; Path=/; HttpOnly; SameSite=Lax{secure}"

    async def _error(self, scope: Scope, send: Send, status: int, csrf: bool = False) -> None:
        request = Request(scope)
        response = self.render_error(request, status, csrf=csrf)
        await response(scope, _replay(b""), send)


def _cookies(scope: Scope) -> dict[str, str]:
    for name, value in scope["headers"]:
        if name == b"cookie":
            jar = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # noqa: BLE001 - a malformed cookie is simply ignored
                return {}
            return {key: morsel.value for key, morsel in jar.items()}
    return {}


async def _read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                if int(value) > limit:
                    raise BodyTooLarge()
            except ValueError:
                pass
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge()
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


async def _sent_csrf(scope: Scope, body: bytes) -> str:
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
    if CSRF_HEADER in headers:
        return headers[CSRF_HEADER]
    content_type = headers.get("content-type", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        values = parse_qs(body.decode("utf-8", "replace")).get(CSRF_FIELD)
        return values[0] if values else ""
    if content_type.startswith("multipart/form-data"):
        request = Request(scope, _replay(body))
        try:
            form = await request.form()
            value = form.get(CSRF_FIELD)
            await form.close()
        except Exception:  # noqa: BLE001 - an unreadable form has no valid token
            return ""
        return value if isinstance(value, str) else ""
    return ""
