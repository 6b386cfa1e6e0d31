"""Per-request guard: real client behind proxies, body cap, origin and CSRF checks, the
signed-in user, security headers, logging."""

import functools
import ipaddress
import logging
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request, cookie_parser
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lms import logs, metrics, offline, visitor_pages
from lms.db import reader, utcnow, write_session
from lms.security import (
    CSRF_COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    PUBLIC_FORM,
    SESSION_COOKIE,
    cookie_name,
    csrf_token_for,
    csrf_valid,
    new_token,
    route_policy,
    token_digest,
)

log = logging.getLogger("lms.request")

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
def security_headers(inline_scripts: tuple[str, ...] = ()) -> list[tuple[bytes, bytes]]:
    """The headers of every answer. Inline scripts run only when listed here, by hash: the
    service worker's start line and the plugins' own (hook `inline_scripts`)."""
    sources = " ".join(dict.fromkeys([offline.REGISTER_SCRIPT_HASH, *map(offline.script_hash, inline_scripts)]))
    return [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        # Tickets and set-up links carry tokens in their paths; never pass them on.
        (b"referrer-policy", b"same-origin"),
        (
            b"content-security-policy",
            b"default-src 'self'; script-src 'self' " + sources.encode() + b"; "
            b"img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
        ),
    ]

# A route's answer carrying this header may be framed: the guard drops it and X-Frame-Options.
EMBEDDABLE = b"x-lms-embeddable"
LAST_SEEN_EVERY = timedelta(hours=1)
HSTS = (b"strict-transport-security", b"max-age=31536000")
# The same limits as the form parser the routes use, checked once here with our messages.
MAX_FORM_FIELDS = 1000
MAX_FORM_FIELD_BYTES = 1024 * 1024
FOREIGN_ORIGIN = "Yêu cầu được gửi từ một trang web khác nên đã bị từ chối."
TOO_MANY_FIELDS = f"Biểu mẫu có quá nhiều ô (tối đa {MAX_FORM_FIELDS}). Vui lòng tải lại trang rồi gửi lại."
FIELD_TOO_LARGE = "Một ô của biểu mẫu quá dài (tối đa 1 MB). Vui lòng rút gọn rồi gửi lại."
UNREADABLE_FORM = "Không đọc được biểu mẫu đã gửi. Vui lòng tải lại trang rồi gửi lại."


def _headers_only(send: Send) -> Send:
    async def sender(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {"type": "http.response.body", "body": b"", "more_body": message.get("more_body", False)}
        await send(message)

    return sender


class PageCsrfToken:
    """The CSRF token as a page renders it, made when first rendered: a page without a form
    costs no random cookie and no HMAC, and gives a visitor no cookie (so it stays cacheable).
    Rendering it notes that the response must set the cookie, when the browser had none."""

    __slots__ = ("_state", "_secret", "_value")

    def __init__(self, state: dict, secret: str) -> None:
        self._state, self._secret, self._value = state, secret, None

    def __str__(self) -> str:
        if self._value is None:
            state = self._state
            if not state["csrf_cookie"]:
                state["csrf_cookie"] = state["csrf_new_cookie"] = new_token(16)
            self._value = csrf_token_for(self._secret, state["csrf_cookie"], state["session_token"])
        return self._value

    __html__ = __str__

    @property
    def rendered(self) -> bool:
        """A page that carries a token is bound to one browser's cookie: never kept for others."""
        return self._value is not None


class BodyTooLarge(Exception):
    pass


class BadForm(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@functools.cache
def _user_by_session(user_model: Any, session_model: Any) -> Any:
    # Built once: composing the statement cost a sixth of every signed-in request's look-up.
    return (select(user_model, session_model.last_seen_at)
            .join(session_model, session_model.user_id == user_model.id)
            .where(session_model.id == bindparam("digest"), session_model.expires_at > bindparam("now"))
            .where(user_model.active.is_(True)))


def load_user(engine: Any, session_token: str | None, user_model: Any, session_model: Any) -> Any:
    """The active user behind a session cookie, or None. One query, a write at most hourly."""
    if not session_token:
        return None
    digest = token_digest(session_token)
    now = utcnow()
    with Session(reader(engine)) as db:
        row = db.execute(_user_by_session(user_model, session_model), {"digest": digest, "now": now}).first()
        if row is None:
            return None
        user, last_seen = row
        db.expunge(user)
    if now - last_seen > LAST_SEEN_EVERY:
        try:
            with write_session(engine) as db:
                db.execute(update(session_model).where(session_model.id == digest).values(last_seen_at=now))
        except OperationalError:
            # Busy: "last seen" can wait for the next request; this one must not fail for it.
            log.info("session last-seen not updated: database busy")
    return user


class WebGuard:
    def __init__(self, app: ASGIApp, *, settings: Any, engine: Any, render_error: Any,
                 user_model: Any, session_model: Any, offline_pages: frozenset[str] = frozenset(),
                 inline_scripts: tuple[str, ...] = ()) -> None:
        self.app = app
        self.offline_pages = offline_pages
        self.security_headers = security_headers(inline_scripts)
        self.settings = settings
        self.engine = engine
        self.secret = settings.resolved_secret_key()
        self.render_error = render_error
        self.user_model = user_model
        self.session_model = session_model
        self.session_cookie = cookie_name(settings, SESSION_COOKIE)
        self.csrf_cookie = cookie_name(settings, CSRF_COOKIE)
        self.proxies = _networks(settings.trusted_proxies)
        base = urlsplit(settings.base_url)
        self.base_origin = f"{base.scheme}://{base.netloc}".lower()
        self.hsts = settings.is_https
        self.visitor_pages = visitor_pages.VisitorPages()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        if scope["method"] == "HEAD":
            # Every GET page answers HEAD (monitors, link checkers): the GET's headers, no body.
            scope = {**scope, "method": "GET"}
            send = _headers_only(send)
        # One id per request: in its log lines, its answer's X-Request-ID and its error page.
        request_id = logs.request_id_for(_header(scope, logs.REQUEST_ID_HEADER))
        scope.setdefault("state", {})["request_id"] = request_id
        # Counted and logged once it is answered (the static files are neither).
        outcome: dict[str, Any] = {"status": 500, "kept": None, "counted": not scope["path"].startswith("/static/")}
        bound = logs.current_request_id.set(request_id)
        try:
            await self._guard(scope, receive, send, outcome, request_id.encode())
        finally:
            logs.current_request_id.reset(bound)
            if outcome["counted"]:
                route = outcome["kept"] or getattr(scope.get("route"), "path", "-")
                seconds = time.perf_counter() - started
                metrics.request_done(route, scope["method"], outcome["status"], seconds)
                logs.log_request(request_id=request_id, method=scope["method"], route=route,
                                 status=outcome["status"], seconds=seconds, kept=outcome["kept"] is not None)

    async def _guard(self, scope: Scope, receive: Receive, send: Send, status_holder: dict[str, Any],
                     request_id: bytes) -> None:
        if self.proxies:
            _trust_forwarded(scope, self.proxies)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                if EMBEDDABLE in present:
                    # A page made to be framed by other sites sets its own frame-ancestors.
                    headers = [(name, value) for name, value in headers if name.lower() != EMBEDDABLE]
                    present |= {b"x-frame-options"}
                headers += [(name, value) for name, value in self.security_headers if name not in present]
                if self.hsts:
                    headers.append(HSTS)
                if message["status"] == 200 and scope["method"] == "GET":
                    route = scope.get("route")
                    if getattr(route, "path", None) in self.offline_pages:
                        signed_in = state is not None and state.get("user") is not None
                        headers.append((offline.HEADER, offline.PUBLIC_COPY if signed_in else offline.THIS_ANSWER))
                # Only a page that put the token in a form (or an htmx header) made a cookie.
                made = state.get("csrf_new_cookie") if state is not None else None
                if made:
                    headers.append((b"set-cookie", self._cookie(self.csrf_cookie, made).encode("latin-1")))
                # The request's own id, never kept with a page for the next visitor.
                message["headers"] = headers if logs.REQUEST_ID_HEADER in present \
                    else [*headers, (logs.REQUEST_ID_HEADER, request_id)]
                if visitor_key is not None and state is not None and state.get(visitor_pages.STATE_KEY) \
                        and message["status"] == 200 and not state["csrf_token"].rendered \
                        and b"set-cookie" not in {n.lower() for n, _ in headers}:
                    kept.update(headers=tuple(headers), body=[])
            elif message["type"] == "http.response.body" and "body" in kept:
                kept["body"].append(message.get("body", b""))
                if not message.get("more_body", False):
                    version_of, version = state[visitor_pages.STATE_KEY]
                    self.visitor_pages.put(visitor_key, visitor_pages.KeptPage(
                        version_of, version, getattr(scope.get("route"), "path", "-"), kept["headers"],
                        b"".join(kept["body"])))
            await send(message)

        state: dict | None = None
        visitor_key: tuple[str, bytes] | None = None
        kept: dict[str, Any] = {}

        path: str = scope["path"]
        if path.startswith("/static/"):
            await self.app(scope, receive, send_with_headers)
            return

        cookies = _cookies(scope)
        csrf_cookie = cookies.get(self.csrf_cookie)
        session_token = cookies.get(self.session_cookie)
        if scope["method"] == "GET" and not session_token and _header(scope, b"hx-request") is None:
            visitor_key = (path, scope.get("query_string", b""))
            page = self.visitor_pages.get(visitor_key)
            if page is not None:
                if await run_in_threadpool(self._still_current, page):
                    await send({"type": "http.response.start", "status": 200,
                                "headers": [*page.headers, (logs.REQUEST_ID_HEADER, request_id)]})
                    await send({"type": "http.response.body", "body": page.body})
                    status_holder.update(status=200, kept=page.route_path)
                    return
                self.visitor_pages.drop(visitor_key)
        # A visitor without a session costs no hop to the thread pool.
        user = await run_in_threadpool(
            load_user, self.engine, session_token, self.user_model, self.session_model
        ) if session_token else None
        state = scope.setdefault("state", {})
        state["user"] = user
        state["session_token"] = session_token if user else None
        state["csrf_cookie"] = csrf_cookie
        state["csrf_token"] = PageCsrfToken(state, self.secret)

        state["csrf_failed"] = False
        if scope["method"] not in SAFE_METHODS:
            route = _route_for(scope)
            if route is None:
                # No page takes this method here: the router answers 404 or 405, and
                # nothing that could change state runs.
                await self.app(scope, _replay(b""), send_with_headers)
                return
            origin = _header(scope, b"origin")
            if origin is not None and origin.lower() not in (self.base_origin, _own_origin(scope)):
                await self._error(scope, send_with_headers, 403, detail=FOREIGN_ORIGIN)
                return
            try:
                body = await _read_body(scope, receive, _body_limit(scope, route, self.settings))
                sent = await _sent_csrf(scope, body)
            except BodyTooLarge:
                await self._error(scope, send_with_headers, 413)
                return
            except BadForm as exc:
                await self._error(scope, send_with_headers, exc.status, detail=exc.message)
                return
            receive = _replay(body)
            if not csrf_valid(self.secret, csrf_cookie, state["session_token"], sent):
                if _policy_name(route) != PUBLIC_FORM.name:
                    await self._error(scope, send_with_headers, 403, csrf=True)
                    return
                # The route shows its form again with the input kept, and writes nothing.
                state["csrf_failed"] = True
        await self.app(scope, receive, send_with_headers)

    def _still_current(self, page: visitor_pages.KeptPage) -> bool:
        try:
            with Session(reader(self.engine)) as db:
                return page.version_of(db) == page.version
        except SQLAlchemyError:
            # Not known to be current: the route runs and answers with its own error page.
            log.warning("kept page not checked: database error")
            return False

    def _cookie(self, name: str, value: str) -> str:
        secure = "; Secure" if self.settings.secure_cookies else ""
        return f"{name}={value}; Path=/; HttpOnly; SameSite=Lax{secure}"

    async def _error(self, scope: Scope, send: Send, status: int, csrf: bool = False,
                     detail: str | None = None) -> None:
        request = Request(scope)
        response = self.render_error(request, status, csrf=csrf, detail=detail)
        await response(scope, _replay(b""), send)


def _header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope["headers"]:
        if name == wanted:
            return value.decode("latin-1")
    return None


def _own_origin(scope: Scope) -> str:
    host = _header(scope, b"host") or ""
    return f"{scope.get('scheme', 'http')}://{host}".lower()


def _route_for(scope: Scope) -> Any:
    """The route that will take this request (path and method), or None."""
    return _matching(getattr(scope.get("app"), "routes", []), scope)


def _matching(routes: Any, scope: Scope) -> Any:
    for route in routes:
        match, _ = route.matches(scope)
        if match != Match.FULL:
            continue
        # FastAPI keeps an included router as one branch: the page is among its routes.
        candidates = getattr(route, "effective_candidates", None)
        if candidates is None:
            return route
        found = _matching(candidates(), scope)
        if found is not None:
            return found
    return None


def _body_limit(scope: Scope, route: Any, settings: Any) -> int:
    """A page marked with lms.forms.takes_uploads may receive a file up to the upload cap;
    every other request stays within max_body_bytes."""
    endpoint = getattr(route, "endpoint", None)
    content_type = (_header(scope, b"content-type") or "").lower()
    if getattr(endpoint, "lms_takes_uploads", False) and content_type.startswith("multipart/form-data"):
        return max(settings.max_body_bytes, settings.media_max_upload_bytes + 256 * 1024)
    return settings.max_body_bytes


def _policy_name(route: Any) -> str | None:
    if getattr(route, "dependant", None) is None:  # a mount or a plain route: no policy
        return None
    return getattr(route_policy(route), "name", None)


def _cookies(scope: Scope) -> dict[str, str]:
    # Starlette's parser, as browsers read cookies: one odd cookie set by another site on
    # the same domain ("theme=dark mode") does not hide the others.
    header = _header(scope, b"cookie")
    return cookie_parser(header) if header else {}


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(values: list[str]) -> list[Network]:
    return [ipaddress.ip_network(value.strip(), strict=False) for value in values if value.strip()]


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip().strip('"')
    if value.startswith("["):  # [2001:db8::1]:4711
        value = value[1:].split("]", 1)[0]
    elif value.count(":") == 1:  # 192.0.2.1:4711
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _forwarded_chain(scope: Scope) -> list[str]:
    """Client addresses the proxies added, nearest last (Forwarded wins over X-Forwarded-For)."""
    forwarded = _header(scope, b"forwarded")
    if forwarded:
        chain = []
        for element in forwarded.split(","):
            for pair in element.split(";"):
                key, _, value = pair.strip().partition("=")
                if key.lower() == "for":
                    chain.append(value)
        return chain
    return [part for part in (_header(scope, b"x-forwarded-for") or "").split(",") if part.strip()]


def _trust_forwarded(scope: Scope, proxies: list[Network]) -> None:
    """Behind trusted proxies, the client is the nearest address no trusted proxy owns."""
    client = scope.get("client")
    peer = _address(client[0]) if client else None
    if peer is None or not any(peer in network for network in proxies):
        return
    for hop in reversed(_forwarded_chain(scope)):
        address = _address(hop)
        if address is None:
            return  # "unknown" or a name: believe nothing beyond it
        if not any(address in network for network in proxies):
            scope["client"] = (str(address), 0)
            return


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
    """The token sent in the header or the form; the form is read with the routes' limits."""
    content_type = (_header(scope, b"content-type") or "").lower()
    header_token = _header(scope, CSRF_HEADER.encode())
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return header_token or ""
    request = Request(scope, _replay(body))
    try:
        form = await request.form(max_fields=MAX_FORM_FIELDS, max_part_size=MAX_FORM_FIELD_BYTES)
    except (MultiPartException, HTTPException) as exc:
        # Starlette raises its parser's error as an HTTP 400 inside an app.
        reason = str(getattr(exc, "detail", "") or exc)
        if "exceeded maximum size" in reason:
            raise BadForm(413, FIELD_TOO_LARGE) from exc
        if "Too many" in reason:
            raise BadForm(400, TOO_MANY_FIELDS) from exc
        raise BadForm(400, UNREADABLE_FORM) from exc
    except Exception as exc:  # noqa: BLE001 - a form we cannot read has no valid token
        raise BadForm(400, UNREADABLE_FORM) from exc
    value = form.get(CSRF_FIELD)
    await form.close()
    if header_token:
        return header_token
    return value if isinstance(value, str) else ""
