"""Jinja environment (site templates first, then plugins') and page rendering."""

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from jinja2_fragments import render_block as _render_block

from lms.core.share_buttons import facebook_share_url, share_script_tag
from lms.offline import register_tag
from lms.security import CSRF_FIELD
from lms.text import official_date

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def local(value: datetime) -> datetime:
    """Vietnam time for display; stored times are UTC."""
    return value.astimezone(VIETNAM)


def make_environment(folders: list[Path]) -> Environment:
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(folder)) for folder in folders]),
        autoescape=select_autoescape(["html", "xml", "svg"]),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters["vn_datetime"] = lambda value: local(value).strftime("%H:%M %d/%m/%Y") if value else ""
    env.filters["vn_date"] = lambda value: local(value).strftime("%d/%m/%Y") if value else ""
    env.filters["official_date"] = lambda value: official_date(local(value).date()) if value else ""
    env.filters["vn_time"] = lambda value: local(value).strftime("%H:%M") if value else ""
    env.globals["offline_register"] = register_tag()
    env.globals["share_script"] = share_script_tag()
    env.filters["facebook_share"] = facebook_share_url
    return env


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def page_context(request: Request, context: dict[str, Any]) -> dict[str, Any]:
    state = request.app.state
    user = getattr(request.state, "user", None)
    state.installation.refresh_if_stale()
    base = {
        "request": request,
        "user": user,
        "csrf_token": request.state.csrf_token,
        "csrf_field": CSRF_FIELD,
        "static": state.static.url,
        "inline_static": state.static.data_uri,
        "nav_items": state.nav_items(request, user),
        "site_name": state.settings.site_name,
        "sections": lambda slot: state.page_sections(request, user, slot),
    }
    base.update(context)
    return base


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    block: str | None = None,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """The full page, or only `block` when htmx asked for a fragment."""
    env: Environment = request.app.state.templates
    ctx = page_context(request, context or {})
    if block and is_htmx(request):
        html = _render_block(env, name, block, ctx)
    else:
        html = env.get_template(name).render(ctx)
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    if block:
        response.headers["Vary"] = "HX-Request"
    return response
