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
        people = (keep.id, drop.id)
        days = summary.days_of_people(db, db.info["lms_pm"], list(people))
        if days:
            record(db, DaysToRecount(days=tuple(d.isoformat() for d in days), user_ids=people))
    return []


@hookimpl
@listens_to("stats.days_to_recount")
def on_event(event: Any, context: Any) -> None:
    from datetime import date

    from lms.plugins.stats import summary

    summary.recount(context.engine, context.pm, days=[date.fromisoformat(d) for d in event.days],
                    user_ids=list(event.user_ids))


@hookimpl
def personal_data_export(db: Any, user: Any) -> list[Any]:
    from sqlalchemy import select

    from lms.personal_data import DataSection, as_rows
    from lms.plugins.stats.models import ActiveDay, ActiveUser

    days = db.exec(select(ActiveDay).where(ActiveDay.user_id == user.id).order_by(ActiveDay.day)).scalars().all()
    last = db.exec(select(ActiveUser).where(ActiveUser.user_id == user.id)).scalars().all()
    return [DataSection("stats_active_day", "Ngày có học (cho thống kê)", as_rows(days, {"Ngày": "day"})),
            DataSection("stats_active_user", "Ngày học gần nhất (cho thống kê)", as_rows(last, {"Ngày": "last_day"}))]


@hookimpl
def personal_data_erase(db: Any, user: Any, actor: Any) -> list[Any]:
    from sqlalchemy import func, select

    from lms.personal_data import ErasureNote
    from lms.plugins.stats.models import ActiveDay, ActiveUser

    kept = "Giữ ngày có học (chỉ mã số, không kèm tên) để số người học theo ngày không đổi."
    return [ErasureNote(model.__tablename__, "kept",
                        db.exec(select(func.count()).select_from(model).where(model.user_id == user.id)).scalar(),
                        kept) for model in (ActiveDay, ActiveUser)]
