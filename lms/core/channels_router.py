"""The commune's channels: its page, Atom feeds for the portal and fanpage tools, and a widget
the commune portal embeds. Everything listed comes from the plugins' `channel_items`."""

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from feedgen.feed import FeedGenerator
from sqlmodel import Session

from lms import security as access
from lms.channels import ChannelItem
from lms.core.models import Place
from lms.db import get_session
from lms.forms import ObjectId
from lms.plugin_host import flatten
from lms.templating import render

router = APIRouter()

FEED_ITEMS_PER_KIND = 20
WIDGET_EVENTS = 5
WIDGET_COURSES = 5
PAGE_ITEMS_PER_KIND = 6
# Feeds and the widget change when staff publish; readers poll. Five minutes of staleness is
# nothing to them and spares the database a poll storm.
CHANNEL_CACHE = "public, max-age=300"
# Nothing in a feed or the widget is personal or changes per visitor.
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


def _items(request: Request, db: Session, commune_id: int | None, limit: int) -> list[ChannelItem]:
    offered = flatten(request.app.state.pm.hook.channel_items(db=db, commune_id=commune_id, limit=limit))
    return [item for item in offered if isinstance(item, ChannelItem)]


def _commune(db: Session, commune_id: int) -> Place:
    place = db.get(Place, commune_id)
    if place is None or place.kind != "commune" or not place.active:
        raise HTTPException(404)
    return place


def _base(request: Request) -> str:
    return request.app.state.settings.base_url.rstrip("/")


def _by_kind(items: list[ChannelItem]) -> dict[str, list[ChannelItem]]:
    kinds: dict[str, list[ChannelItem]] = {}
    for item in items:
        kinds.setdefault(item.kind, []).append(item)
    return kinds


def atom_feed(request: Request, items: list[ChannelItem], *, title: str, path: str, page_path: str) -> bytes:
    base = _base(request)
    feed = FeedGenerator()
    feed.id(f"{base}{path}")
    feed.title(title)
    feed.subtitle("Tin tức, khóa học mới và sự kiện sắp diễn ra của phong trào Bình dân học vụ số")
    feed.author({"name": request.app.state.settings.site_name})
    feed.link(href=f"{base}{path}", rel="self", type="application/atom+xml")
    feed.link(href=f"{base}{page_path}", rel="alternate", type="text/html")
    feed.language("vi")
    feed.generator("hocvuso")
    feed.updated(max((item.updated for item in items), default=EPOCH))
    # feedgen writes entries in reverse order of adding: add the oldest first.
    for item in sorted(items, key=lambda i: (i.updated, i.key)):
        entry = feed.add_entry()
        entry.id(f"{base}{item.url}")
        entry.title(item.title)
        entry.link(href=f"{base}{item.url}", rel="alternate", type="text/html")
        entry.summary(item.summary or item.title)
        entry.published(item.published)
        entry.updated(item.updated)
        entry.category(term=item.kind, label=item.kind_label)
    return feed.atom_str(pretty=False)


def _feed_response(body: bytes) -> Response:
    return Response(body, media_type="application/atom+xml; charset=utf-8",
                    headers={"Cache-Control": CHANNEL_CACHE})


@router.get("/feed.atom", dependencies=[access.PUBLIC_ROUTE])
def installation_feed(request: Request, db: Session = Depends(get_session)) -> Any:
    items = _items(request, db, None, FEED_ITEMS_PER_KIND)
    return _feed_response(atom_feed(request, items, title=request.app.state.settings.site_name,
                                    path="/feed.atom", page_path="/"))


@router.get("/xa/{commune_id}/feed.atom", dependencies=[access.PUBLIC_ROUTE])
def commune_feed(request: Request, commune_id: ObjectId, db: Session = Depends(get_session)) -> Any:
    commune = _commune(db, commune_id)
    items = _items(request, db, commune.id, FEED_ITEMS_PER_KIND)
    return _feed_response(atom_feed(request, items, title=f"{commune.name} · {request.app.state.settings.site_name}",
                                    path=f"/xa/{commune.id}/feed.atom", page_path=f"/xa/{commune.id}"))


@router.get("/xa/{commune_id}", dependencies=[access.PUBLIC_ROUTE])
def commune_page(request: Request, commune_id: ObjectId, db: Session = Depends(get_session)) -> Any:
    commune = _commune(db, commune_id)
    kinds = _by_kind(_items(request, db, commune.id, PAGE_ITEMS_PER_KIND))
    return render(request, "core/commune.html", {
        "commune": commune, "kinds": kinds, "base": _base(request),
        "widget_width": 360, "widget_height": 480})


def _widget(request: Request, commune: Place | None, db: Session) -> Any:
    items = _items(request, db, commune.id if commune else None, max(WIDGET_EVENTS, WIDGET_COURSES))
    kinds = _by_kind(items)
    response = render(request, "core/widget.html", {
        "commune": commune, "events": kinds.get("event", [])[:WIDGET_EVENTS],
        "courses": kinds.get("course", [])[:WIDGET_COURSES], "base": _base(request),
        "more": f"/xa/{commune.id}" if commune else "/"}, headers={"Cache-Control": CHANNEL_CACHE})
    # Shown inside the commune portal's page, another site: framing allowed, links open on top.
    response.headers["content-security-policy"] = (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
        f"frame-ancestors {request.app.state.settings.widget_frame_ancestors}")
    response.headers["x-lms-embeddable"] = "1"
    return response


@router.get("/widget", dependencies=[access.PUBLIC_ROUTE])
def installation_widget(request: Request, db: Session = Depends(get_session)) -> Any:
    return _widget(request, None, db)


@router.get("/xa/{commune_id}/widget", dependencies=[access.PUBLIC_ROUTE])
def commune_widget(request: Request, commune_id: ObjectId, db: Session = Depends(get_session)) -> Any:
    return _widget(request, _commune(db, commune_id), db)
