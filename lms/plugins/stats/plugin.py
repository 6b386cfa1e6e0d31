"""The statistics plugin: dashboard, targets, exports, printable report and read-only API.

It imports no other plugin: figures come through the stats_figures hook."""

from typing import Any

from lms.events import listens_to
from lms.hookspecs import hookimpl
from lms.plugin_host import NavItem, PluginMeta

meta = PluginMeta(name="stats", label="Thống kê")


@hookimpl
def register_routers() -> list[Any]:
    from lms.plugins.stats.api import router as api_router
    from lms.plugins.stats.router import router

    return [router, api_router]


@hookimpl
def nav_items(user: Any) -> list[NavItem]:
    if user is not None and user.role in ("staff", "admin"):
        return [NavItem("Thống kê", "/stats", 65)]
    return []


@hookimpl
def register_commands(cli: Any) -> None:
    from lms.plugins.stats.commands import register

    register(cli)


@hookimpl(tryfirst=True)
def merge_accounts(db: Any, keep: Any, drop: Any, apply: bool) -> list[Any]:
    # First, before other plugins move rows: which summed days hold facts of either account.
    # Those days are summed again once the merge has committed, so the person counts once.
    from lms.events import record
    from lms.plugins.stats import summary
    from lms.plugins.stats.events import DaysToRecount

    if apply:
        from lms.plugins.stats.consent import merge_choice

        merge_choice(db, keep_id=keep.id, drop_id=drop.id)
        people = (keep.id, drop.id)
        days = summary.days_of_people(db, db.info["lms_pm"], list(people))
        if days:
            record(db, DaysToRecount(days=tuple(d.isoformat() for d in days), user_ids=people))
    return []


@hookimpl
@listens_to("stats.days_to_recount", "core.consent_changed")
def on_event(event: Any, context: Any) -> None:
    from datetime import date

    from lms.plugins.stats import summary

    if event.name == "core.consent_changed":
        if event.purpose == "stats":
            from lms.plugins.stats.consent import follow

            follow(context, user_id=event.user_id, granted=event.granted)
        return
    summary.recount(context.engine, context.pm, days=[date.fromisoformat(d) for d in event.days],
                    user_ids=list(event.user_ids))


@hookimpl
def consent_purposes() -> list[Any]:
    from lms.plugins.stats.consent import STATS_PURPOSE

    return [STATS_PURPOSE]


@hookimpl
def personal_data_export(db: Any, user: Any) -> list[Any]:
    from sqlalchemy import select

    from lms.personal_data import DataSection, as_rows
    from lms.plugins.stats.models import ActiveDay, ActiveUser, OptedOut

    days = db.exec(select(ActiveDay).where(ActiveDay.user_id == user.id).order_by(ActiveDay.day)).scalars().all()
    last = db.exec(select(ActiveUser).where(ActiveUser.user_id == user.id)).scalars().all()
    return [DataSection("stats_active_day", "Ngày có học (cho thống kê)", as_rows(days, {"Ngày": "day"})),
            DataSection("stats_active_user", "Ngày học gần nhất (cho thống kê)", as_rows(last, {"Ngày": "last_day"})),
            DataSection("stats_opted_out", "Không tính vào thống kê (theo lựa chọn của bạn)", as_rows(
                db.exec(select(OptedOut).where(OptedOut.user_id == user.id)).scalars().all(), {"Từ lúc": "since"}))]


@hookimpl
def personal_data_erase(db: Any, user: Any, actor: Any) -> list[Any]:
    from sqlalchemy import func, select

    from lms.personal_data import ErasureNote
    from lms.plugins.stats.models import ActiveDay, ActiveUser, OptedOut

    opted_out = db.exec(select(func.count()).select_from(OptedOut).where(OptedOut.user_id == user.id)).scalar()
    kept = "Giữ ngày có học (chỉ mã số, không kèm tên) để số người học theo ngày không đổi."
    return [ErasureNote(model.__tablename__, "kept",
                        db.exec(select(func.count()).select_from(model).where(model.user_id == user.id)).scalar(),
                        kept) for model in (ActiveDay, ActiveUser)] + [
        ErasureNote("stats_opted_out", "kept", opted_out,
                    "Giữ lựa chọn không tính vào thống kê (chỉ mã số) để người này vẫn không được tính.")]


@hookimpl
def help_pages() -> list[Any]:
    from lms.help import HelpPage

    return [HelpPage("thong-ke", "Xem và xuất số liệu thống kê",
                     "Số liệu của xã theo kỳ, nhóm, thôn, khóa học; tải CSV, Excel hoặc in báo cáo A4.",
                     "stats/help/stats.html", role="staff", order=20)]
