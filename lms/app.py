"""Application factory: plugins, routers, middleware, static files and templates."""

import gc
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware

from lms import metrics, paths
from lms.context import Context
from lms.core.installation import InstallationValues
from lms.core.models import User, UserSession
from lms.db import make_engine
from lms.errors import ServiceError
from lms.keys import installation_keys
from lms.plugin_host import NavItem, build_plugin_manager, flatten
from lms.security import AccessDenied, LoginRequired
from lms.settings import Settings
from lms.staticfiles import HashedStatic
from lms.templating import make_environment, render
from lms.web import WebGuard

log = logging.getLogger("lms")

ERROR_PAGES = {
    400: ("Yêu cầu không hợp lệ", "Dữ liệu gửi lên không đúng. Vui lòng quay lại và thử lại."),
    403: ("Không có quyền truy cập", "Tài khoản của bạn không được xem trang này."),
    404: ("Không tìm thấy trang", "Trang bạn tìm không có hoặc đã được chuyển đi."),
    405: ("Không hỗ trợ thao tác này", "Trang này không nhận thao tác bạn vừa gửi."),
    409: ("Không thực hiện được", "Thao tác này không thực hiện được lúc này."),
    413: (
        "Dữ liệu quá lớn",
        "Nội dung hoặc tệp bạn gửi vượt quá giới hạn cho phép. Vui lòng rút gọn rồi gửi lại.",
    ),
    429: ("Quá nhiều yêu cầu", "Bạn thao tác quá nhanh. Vui lòng chờ một lát rồi thử lại."),
    500: ("Đã có lỗi", "Hệ thống gặp sự cố. Vui lòng thử lại sau ít phút."),
    503: ("Hệ thống đang bận", "Hệ thống đang bận, vui lòng thử lại sau ít giây."),
}
BUSY_RETRY_SECONDS = 5
CSRF_MESSAGE = (
    "Biểu mẫu đã hết hạn hoặc không hợp lệ. Vui lòng quay lại, tải lại trang rồi gửi lại."
)


def render_error(request: Request, status: int, *, csrf: bool = False,
                 detail: str | None = None) -> HTMLResponse:
    title, message = ERROR_PAGES.get(status, ERROR_PAGES[500])
    message = detail or message
    if csrf:
        title, message = "Biểu mẫu hết hạn", CSRF_MESSAGE
    return render(
        request, "error.html", {"title": title, "message": message}, status_code=status
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    pm = build_plugin_manager(settings)
    engine = make_engine(settings)
    # Keys come from settings, the database (several hosts) or instance/ (one host).
    settings = installation_keys(settings, engine)
    context = Context(engine, pm, settings)

    app = FastAPI(title="hocvuso", docs_url=None, redoc_url=None, openapi_url="/openapi.json",
                  lifespan=_lifespan)
    app.state.settings = settings
    app.state.engine = engine
    app.state.pm = pm
    app.state.context = context
    app.state.password_context = None  # set lazily by lms.core.services
    # What the administrator chose in the browser (the first-run guide), over the defaults.
    app.state.installation = InstallationValues(settings, engine)
    app.state.installation.load()

    template_dirs = [paths.templates_dir()] + [Path(p) for p in flatten(pm.hook.template_dirs())]
    app.state.templates = make_environment(template_dirs)
    static_folders: list[tuple[str, Path]] = [("", paths.static_dir())]
    static_folders += [(name, Path(folder)) for name, folder in flatten(pm.hook.static_dirs())]
    app.state.static = HashedStatic(static_folders)

    def nav_items(request: Request, user: Any) -> list[NavItem]:
        items = flatten(pm.hook.nav_items(request=request, user=user))
        return sorted(items, key=lambda item: (item.order, item.label))

    app.state.nav_items = nav_items

    def page_sections(request: Request, user: Any, slot: str) -> list[Any]:
        return flatten(pm.hook.page_sections(request=request, user=user, slot=slot))

    app.state.page_sections = page_sections

    for router in flatten(pm.hook.register_routers()):
        app.include_router(router)
    # /metrics for Prometheus; a wrong LMS_METRICS_ALLOW stops the start here.
    app.state.metrics_networks = metrics.allowed_networks(settings.metrics_allow)
    metrics.figures()
    app.include_router(metrics.router)
    app.mount("/static", app.state.static, name="static")
    _check_access_policies(app)

    _install_error_handlers(app)
    app.add_middleware(
        WebGuard,
        settings=settings,
        engine=engine,
        render_error=render_error,
        user_model=User,
        session_model=UserSession,
        offline_pages=frozenset(flatten(pm.hook.offline_pages())),
        inline_scripts=tuple(flatten(pm.hook.inline_scripts())),
    )
    app.add_middleware(GZipMiddleware, minimum_size=500)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    import anyio.to_thread

    settings = app.state.settings
    # Handlers doing database work run in this pool; the connection pool matches it.
    anyio.to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
    stop = threading.Event()
    deliverer = threading.Thread(target=_deliver_pending, args=(app.state.context, stop),
                                 name="lms-outbox", daemon=True)
    deliverer.start()
    # What start-up made (routes, models, templates) lives as long as the worker: out of the
    # collector's sight, a full collection no longer walks it in the middle of a request.
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        stop.set()
        deliverer.join(timeout=10)
        metrics.worker_stopped()


def _deliver_pending(context: Context, stop: threading.Event) -> None:
    """Deliver events left pending (a handler failed, a worker stopped): at start, then periodically."""
    from lms.events import deliver

    interval = context.settings.outbox_interval_seconds
    while not stop.is_set():
        deliver(context)
        if not interval or stop.wait(interval):
            return


def _check_access_policies(app: FastAPI) -> None:
    """Refuse to start when a plugin adds a page without saying who may open it."""
    from fastapi.routing import APIRoute

    from lms.plugin_host import PluginError
    from lms.security import app_routes, route_policy

    missing = [
        f"{sorted(route.methods)} {route.path}"
        for route in app_routes(app)
        if isinstance(route.original_route, APIRoute) and route_policy(route) is None
    ]
    if missing:
        raise PluginError(f"Routes without an access policy: {', '.join(missing)}")


def _own_message(exc: StarletteHTTPException) -> str | None:
    """A service's Vietnamese reason given as the detail, not HTTP's stock English phrase."""
    from http import HTTPStatus

    detail = exc.detail if isinstance(exc.detail, str) else None
    try:
        stock = HTTPStatus(exc.status_code).phrase
    except ValueError:
        stock = None
    return None if detail in (None, stock) else detail


def _same_site_referer(request: Request) -> str | None:
    from urllib.parse import urlsplit

    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc != request.url.netloc or not referer.path.startswith("/"):
        return None
    return referer.path + (f"?{referer.query}" if referer.query else "")


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, _exc: LoginRequired) -> Any:
        from urllib.parse import quote

        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        if request.method != "GET":
            # After logging in, come back to the page the form was on, not its action.
            target = _same_site_referer(request) or "/"
        if request.headers.get("hx-request") == "true":
            return HTMLResponse("", headers={"HX-Redirect": f"/login?next={quote(target)}"})
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(AccessDenied)
    async def _denied(request: Request, _exc: AccessDenied) -> Any:
        return render_error(request, 403)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Any:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                                headers=exc.headers)
        response = render_error(request, exc.status_code, detail=_own_message(exc))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Any:
        # Forms are validated in the views with Vietnamese messages; this only
        # catches malformed requests (a missing field from a tampered form). A path
        # that cannot name an object (/staff/events/abc, an id past 2^63) names nothing.
        in_path = any(error.get("loc", ("",))[0] == "path" for error in exc.errors())
        status = 404 if in_path else 400
        if request.url.path.startswith("/api/"):
            detail = "Không tìm thấy" if in_path else "Yêu cầu không hợp lệ"
            return JSONResponse({"detail": detail}, status_code=status)
        return render_error(request, status)

    @app.exception_handler(ServiceError)
    async def _refused(request: Request, exc: ServiceError) -> Any:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"code": exc.code, "detail": exc.message}, status_code=exc.status,
                                headers=exc.headers)
        if request.headers.get("hx-request") == "true":
            response = render(request, "error.html", {"title": ERROR_PAGES.get(exc.status, ERROR_PAGES[409])[0],
                                                      "message": exc.message},
                              status_code=exc.status, block="message")
        else:
            title = ERROR_PAGES.get(exc.status, ERROR_PAGES[409])[0]
            response = render(request, "error.html", {"title": title, "message": exc.message,
                                                      "back": _same_site_referer(request)},
                              status_code=exc.status)
        for name, value in exc.headers.items():
            response.headers[name] = value
        return response

    @app.exception_handler(OperationalError)
    async def _database_trouble(request: Request, exc: OperationalError) -> Any:
        if not _is_lock_timeout(exc):
            return await _unexpected(request, exc)
        # Another write held the lock longer than we wait: the person may simply retry.
        metrics.database_busy()
        log.warning("%s %s: database busy (lock wait over %.0fs)", request.method,
                    getattr(request.scope.get("route"), "path", "-"),
                    request.app.state.settings.database_lock_timeout_seconds)
        headers = {"Retry-After": str(BUSY_RETRY_SECONDS)}
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": ERROR_PAGES[503][1]}, status_code=503, headers=headers)
        response = render_error(request, 503)
        response.headers.update(headers)
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Any:
        # Logged with the route's pattern, never the raw path (it may hold a token). This answer
        # is made outside lms.web's guard, so it names the request itself.
        request_id = getattr(request.state, "request_id", None)
        log.error("%s %s: unexpected %s", request.method,
                  getattr(request.scope.get("route"), "path", "-"), type(exc).__name__, exc_info=exc,
                  extra={"request_id": request_id})
        headers = {"X-Request-ID": request_id} if request_id else None
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": ERROR_PAGES[500][1]}, status_code=500, headers=headers)
        try:
            response = render_error(request, 500)
        except Exception:  # noqa: BLE001 - the error page itself failed: plain Vietnamese text
            shown = f"<p>Nếu cần hỏi cán bộ, đọc mã này: <strong>{request_id}</strong></p>" if request_id else ""
            return HTMLResponse(f"<!doctype html><meta charset=utf-8><title>Đã có lỗi</title>"
                                f"<p>{ERROR_PAGES[500][1]}</p>{shown}", status_code=500, headers=headers)
        response.headers.update(headers or {})
        return response


def _is_lock_timeout(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return ("database is locked" in text or "database table is locked" in text
            or "lock timeout" in text or "could not obtain lock" in text)
