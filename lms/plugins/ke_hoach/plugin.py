"""The commune plan followed up: tasks, bodies, deadlines, status, evidence, and the report."""

from typing import Any

import typer

from lms.hookspecs import hookimpl
from lms.plugin_host import NavItem, PluginMeta

meta = PluginMeta(name="ke_hoach", label="Kế hoạch", requires=["stats"])


@hookimpl
def register_routers() -> list[Any]:
    from lms.plugins.ke_hoach.router import router

    return [router]


@hookimpl
def nav_items(request: Any, user: Any) -> list[NavItem]:
    if user is not None and user.role in ("staff", "admin"):
        return [NavItem("Kế hoạch tuyên truyền", "/staff/ke-hoach", 66, area="staff")]
    return []


@hookimpl
def register_commands(cli: Any) -> None:
    group = typer.Typer(help="Kế hoạch tuyên truyền: nhập kế hoạch mẫu.", no_args_is_help=True)
    cli.add_typer(group, name="ke-hoach")

    @group.command("import-example")
    def import_example(commune: int = typer.Option(..., "--commune", help="Mã (id) của xã/phường.")) -> None:
        """Import the example plan's tasks into a commune (safe to run again)."""
        from lms.plugins.ke_hoach.commands import import_example as run

        raise typer.Exit(run(commune))


@hookimpl
def personal_data_export(db: Any, user: Any) -> list[Any]:
    from sqlalchemy import select

    from lms.personal_data import DataSection, as_rows
    from lms.plugins.ke_hoach.models import Change

    rows = db.exec(select(Change).where(Change.changed_by_id == user.id).order_by(Change.id)).scalars().all()
    return [DataSection("kehoach_change", "Thay đổi trong kế hoạch tuyên truyền của xã", as_rows(rows, {
        "Kế hoạch (mã)": "plan_id", "Nhiệm vụ (mã)": "task_id", "Thay đổi": "what", "Lúc": "changed_at"}))]


@hookimpl
def personal_data_erase(db: Any, user: Any, actor: Any) -> list[Any]:
    from sqlalchemy import update

    from lms.personal_data import ErasureNote
    from lms.plugins.ke_hoach.models import Change

    count = db.execute(update(Change).where(Change.changed_by_id == user.id).values(changed_by_id=None)).rowcount or 0
    return [ErasureNote("kehoach_change", "anonymised", count,
                        "Giữ nội dung thay đổi của kế hoạch (không kèm người thực hiện) để xã theo dõi, báo cáo.")]


@hookimpl
def merge_accounts(db: Any, keep: Any, drop: Any, apply: bool) -> list[Any]:
    from sqlalchemy import func, select, update

    from lms.merging import MergeItem
    from lms.plugins.ke_hoach.models import Change

    count = db.exec(select(func.count()).select_from(Change).where(Change.changed_by_id == drop.id)).scalar() or 0
    if apply and count:
        db.execute(update(Change).where(Change.changed_by_id == drop.id).values(changed_by_id=keep.id))
    return [MergeItem("Thay đổi trong kế hoạch tuyên truyền", count)] if count else []
