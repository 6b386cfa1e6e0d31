"""The help pages ("Hướng dẫn"): the index for the reader's role, and one page by its slug.

Both routes are public; a page written for a higher role than the reader's is refused as a
protected page is: a visitor is sent to log in, a signed-in reader gets 403."""

from typing import Any

from fastapi import APIRouter, Request

from lms import help as help_pages
from lms import security as access
from lms.errors import NotFound
from lms.qr import qr_svg
from lms.templating import render

router = APIRouter()


def _pages(request: Request) -> dict[str, help_pages.HelpPage]:
    state = request.app.state
    pages = getattr(state, "help_pages", None)
    if pages is None:  # the same for the worker's life: plugins are loaded at start
        pages = state.help_pages = help_pages.collect(state.pm)
    return pages


@router.get("/huong-dan", dependencies=[access.PUBLIC_ROUTE])
def help_index(request: Request) -> Any:
    return render(request, "core/help/index.html",
                  {"groups": help_pages.groups_for(_pages(request), request.state.user)})


@router.get("/huong-dan/{slug}", dependencies=[access.PUBLIC_ROUTE])
def help_page(request: Request, slug: str) -> Any:
    page = _pages(request).get(slug)
    if page is None:
        raise NotFound()
    user = request.state.user
    if not page.readable_by(user):
        raise access.LoginRequired() if user is None else access.AccessDenied()
    address = f"{request.app.state.settings.base_url.rstrip('/')}/huong-dan/{page.slug}"
    return render(request, page.template, {"page": page, "group": help_pages.GROUPS[page.role],
                                           "address": address, "qr": qr_svg(address)})
