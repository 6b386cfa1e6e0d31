"""News items staff publish: at /tin-tuc, on the home page, in the feeds and on the hall screen."""

from typing import Any

from lms.hookspecs import hookimpl
from lms.plugin_host import NavItem, PluginMeta

meta = PluginMeta(name="tin_tuc", label="Tin tức", requires=[])

HOME_ITEMS = 3


@hookimpl
def register_routers() -> list[Any]:
    from lms.plugins.tin_tuc.router import router

    return [router]


@hookimpl
def nav_items(request: Any, user: Any) -> list[NavItem]:
    items = [NavItem("Tin tức", "/tin-tuc", 25)]
    if user is not None and user.role in ("staff", "admin"):
        items.append(NavItem("Tin tức của xã", "/staff/tin-tuc", 40, area="staff"))
    return items


@hookimpl
def page_sections(request: Any, user: Any, slot: str) -> list[Any]:
    if slot != "home":
        return []
    from markupsafe import Markup

    from lms.db import read_session
    from lms.plugins.tin_tuc import services

    commune_id = user.commune_id if user is not None else None
    with read_session(request.app.state.engine) as db:
        items = services.published(db, commune_id, limit=HOME_ITEMS)
    template = request.app.state.templates.get_template("tin_tuc/_home_section.html")
    return [Markup(template.render(items=items, commune_id=commune_id))]  # noqa: S704 - autoescaped template


@hookimpl
def channel_items(db: Any, commune_id: int | None, limit: int) -> list[Any]:
    from lms.plugins.tin_tuc import services

    return services.channel_items(db, commune_id, limit)


@hookimpl
def evidence_choices(db: Any, user: Any) -> list[Any]:
    from lms.plugins.tin_tuc import services

    return services.evidence_choices(db, user)


@hookimpl
def bulletin_choices(db: Any, user: Any) -> list[Any]:
    from lms.bulletin import BulletinChoice
    from lms.plugins.tin_tuc import services

    if user.role != "admin" and user.commune_id is None:
        return []
    return [BulletinChoice(key=f"tin-tuc:{item.id}", group="Tin tức", title=item.title,
                           text=services.bulletin_text(item))
            for item in services.published(db, user.commune_id if user.role != "admin" else None, limit=30)]


@hookimpl
def offline_pages() -> list[str]:
    return ["/tin-tuc", "/tin-tuc/{item_id}"]


@hookimpl
def personal_data_export(db: Any, user: Any) -> list[Any]:
    from sqlalchemy import or_, select

    from lms.personal_data import DataSection
    from lms.plugins.tin_tuc.models import NewsItem

    rows = db.execute(select(NewsItem).where(or_(NewsItem.created_by_id == user.id,
                                                 NewsItem.updated_by_id == user.id))).scalars()
    return [DataSection("tintuc_item", "Tin tức bạn đã viết hoặc sửa", [
        {"id": item.id, "tiêu_đề": item.title, "trạng_thái": item.status,
         "người_viết": item.created_by_id == user.id, "người_sửa_cuối": item.updated_by_id == user.id,
         "sửa_lúc": item.updated_at.isoformat()} for item in rows])]


@hookimpl
def personal_data_erase(db: Any, user: Any, actor: Any) -> list[Any]:
    from sqlalchemy import update

    from lms.personal_data import ErasureNote
    from lms.plugins.tin_tuc.models import NewsItem

    # The news stays published (it is the commune's, not the writer's); only the link to the
    # person goes.
    created = db.execute(update(NewsItem).where(NewsItem.created_by_id == user.id)
                         .values(created_by_id=None)).rowcount
    updated = db.execute(update(NewsItem).where(NewsItem.updated_by_id == user.id)
                         .values(updated_by_id=None)).rowcount
    return [ErasureNote("tintuc_item", "anonymised", created + updated,
                        "Tin vẫn đăng vì là tin của xã; chỉ bỏ liên kết tới người viết, người sửa.")]


@hookimpl
def merge_accounts(db: Any, keep: Any, drop: Any, actor: Any, apply: bool) -> list[Any]:
    from sqlalchemy import func, or_, select, update

    from lms.merging import MergeItem
    from lms.plugins.tin_tuc.models import NewsItem

    count = db.execute(select(func.count()).select_from(NewsItem).where(
        or_(NewsItem.created_by_id == drop.id, NewsItem.updated_by_id == drop.id))).scalar_one()
    if not count:
        return []
    if apply:
        db.execute(update(NewsItem).where(NewsItem.created_by_id == drop.id).values(created_by_id=keep.id))
        db.execute(update(NewsItem).where(NewsItem.updated_by_id == drop.id).values(updated_by_id=keep.id))
    return [MergeItem("Tin tức đã viết hoặc sửa", count)]
