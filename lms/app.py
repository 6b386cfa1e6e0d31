"""Application factory: plugins, routers, middleware, static files and templates."""

import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware

from lms import paths
from lms.core.models import User, UserSession
from lms.db import make_engine
from lms.plugins import NavItem, build_plugin_manager, flatten
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
}
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

    app = FastAPI(title="hocvuso", docs_url=None, redoc_url=None, openapi_url="/openapi.json")
    app.state.settings = settings
    app.state.engine = engine
    app.state.pm = pm
    app.state.password_context = None  # set lazily by lms.core.services

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
    )
    app.add_middleware(GZipMiddleware, minimum_size=500)
    return app


def _check_access_policies(app: FastAPI) -> None:
    """Refuse to start when a plugin adds a page without saying who may open it."""
    from fastapi.routing import APIRoute

    from lms.plugins import PluginError
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
    async def _invalid(request: Request, _exc: RequestValidationError) -> Any:
        # Forms are validated in the views with Vietnamese messages; this only
        # catches malformed requests (a missing field from a tampered form).
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": "Yêu cầu không hợp lệ"}, status_code=400)
        return render_error(request, 400)
