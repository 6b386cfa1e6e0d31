"""Local models of digital transformation: submitted, reviewed, published, compiled each year."""

from typing import Any

from lms.hookspecs import hookimpl
from lms.plugin_host import NavItem, PluginMeta

meta = PluginMeta(name="mo_hinh", label="Mô hình tiêu biểu", requires=[])


@hookimpl
def register_routers() -> list[Any]:
    from lms.plugins.mo_hinh.router import router

    return [router]


@hookimpl
def nav_items(request: Any, user: Any) -> list[NavItem]:
    items = [NavItem("Mô hình tiêu biểu", "/mo-hinh", 27)]
    if user is not None and user.role in ("staff", "admin"):
        items.append(NavItem("Duyệt mô hình tiêu biểu", "/mo-hinh-duyet", 41, area="staff"))
        items.append(NavItem("Tổng hợp mô hình tiêu biểu hằng năm", "/mo-hinh-tong-hop", 42, area="staff"))
    return items


@hookimpl
def channel_items(db: Any, commune_id: int | None, limit: int) -> list[Any]:
    from lms.plugins.mo_hinh import services

    return services.channel_items(db, commune_id, limit)


@hookimpl
def evidence_choices(db: Any, user: Any) -> list[Any]:
    from lms.plugins.mo_hinh import services

    return services.evidence_choices(db, user)


@hookimpl
def personal_data_export(db: Any, user: Any) -> list[Any]:
    from lms.personal_data import DataSection
    from lms.plugins.mo_hinh import services

    submitted, steps = services.export_rows(db, user)
    return [DataSection("mohinh_model", "Mô hình tiêu biểu bạn đã gửi", submitted),
            DataSection("mohinh_transition", "Việc duyệt mô hình tiêu biểu bạn đã làm", steps)]


@hookimpl
def personal_data_erase(db: Any, user: Any, actor: Any) -> list[Any]:
    from lms.personal_data import ErasureNote
    from lms.plugins.mo_hinh import services

    deleted, anonymised, steps = services.erase(db, user)
    model_note = (ErasureNote("mohinh_model", "anonymised", deleted + anonymised,
                              f"Xoá {deleted} mô hình chưa công bố. Giữ {anonymised} mô hình đã công bố (không kèm "
                              "tài khoản, tên, số điện thoại, cách liên lạc) vì đã vào bản tổng hợp hằng năm "
                              "của xã báo cáo Ủy ban nhân dân xã.")
                  if anonymised else ErasureNote("mohinh_model", "deleted", deleted))
    return [model_note,
            ErasureNote("mohinh_transition", "anonymised", steps,
                        "Giữ các bước duyệt (không kèm người làm) để biết mô hình đã được duyệt thế nào.")]


@hookimpl
def merge_accounts(db: Any, keep: Any, drop: Any, apply: bool) -> list[Any]:
    from lms.merging import MergeItem
    from lms.plugins.mo_hinh import services

    owned, steps = services.merge(db, keep, drop, apply=apply)
    items = []
    if owned:
        items.append(MergeItem("Mô hình tiêu biểu đã gửi", owned))
    if steps:
        items.append(MergeItem("Bước duyệt mô hình tiêu biểu", steps))
    return items


@hookimpl
def lesson_embed(db: Any, ref: str) -> Any:
    kind, _, key = ref.partition(":")
    if kind != "mo-hinh" or not key:
        return None
    from markupsafe import Markup

    from lms.plugins.mo_hinh import services

    card = services.embed_card_html(db, key)
    return Markup(card) if card else None  # noqa: S704 - built with Markup.format, escaped
