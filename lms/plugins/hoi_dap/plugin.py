"""Hỏi đáp: a question box on the home page, on every lesson and at /hoi-dap that answers from
the platform's reviewed content only (FAQ entries and lesson sections), with sources."""

from typing import Any

import typer

from lms.events import listens_to
from lms.hookspecs import hookimpl
from lms.plugin_host import NavItem, PluginMeta

meta = PluginMeta(name="hoi_dap", label="Hỏi đáp", requires=["courses"])


@hookimpl
def register_routers() -> list[Any]:
    from lms.plugins.hoi_dap.router import router

    return [router]


@hookimpl
def nav_items(request: Any, user: Any) -> list[NavItem]:
    items = [NavItem("Hỏi đáp", "/hoi-dap", 30)]
    if user is not None and user.role in ("team_member", "staff", "admin"):
        items.append(NavItem("Câu hỏi của người dân", "/hoi-dap-tra-loi", 45, area="staff"))
    if user is not None and user.role in ("staff", "admin"):
        items.append(NavItem("Hỏi đáp của xã", "/hoi-dap-cua-xa", 46, area="staff"))
    return items


@hookimpl
def page_sections(request: Any, user: Any, slot: str) -> list[Any]:
    if slot not in ("home", "lesson"):
        return []
    from markupsafe import Markup

    template = request.app.state.templates.get_template("hoi_dap/_box.html")
    label = "Có điều gì chưa rõ? Hỏi đáp về ứng dụng số" if slot == "lesson" else "Hỏi đáp về ứng dụng số"
    return [Markup(template.render(box_id=slot, box_label=label))]  # noqa: S704 - our template, escaped


@hookimpl
def offline_pages() -> list[str]:
    return ["/hoi-dap/{slug}"]


@hookimpl
@listens_to("courses.content_changed")
def on_event(event: Any, context: Any) -> None:
    from lms.plugins.hoi_dap import services

    # Delivered at least once: a rebuild is the same done twice.
    services.rebuild_index(context)


@hookimpl
def register_commands(cli: Any) -> None:
    group = typer.Typer(help="Hỏi đáp: gói câu hỏi thường gặp và chỉ mục tìm kiếm.", no_args_is_help=True)
    cli.add_typer(group, name="hoi-dap")

    @group.command("check")
    def check() -> None:
        """Validate the FAQ pack; prints path:line: message for each problem."""
        from lms.plugins.hoi_dap.commands import check_pack

        raise typer.Exit(check_pack())

    @group.command("sync")
    def sync() -> None:
        """Load the FAQ pack and rebuild the search index (safe to run again)."""
        from lms.plugins.hoi_dap.commands import sync_pack

        raise typer.Exit(sync_pack())


@hookimpl
def personal_data_export(db: Any, user: Any) -> list[Any]:
    from sqlalchemy import select

    from lms.personal_data import DataSection, as_rows
    from lms.plugins.hoi_dap.models import Question

    rows = db.exec(select(Question).where(Question.asker_id == user.id)).scalars().all()
    return [DataSection("hoidap_question", "Câu hỏi đã gửi tổ công nghệ số", as_rows(rows, {
        "Câu hỏi": "text", "Cách liên lạc": "contact", "Gửi lúc": "asked_at", "Câu trả lời": "answer"}))]


@hookimpl
def personal_data_erase(db: Any, user: Any, actor: Any) -> list[Any]:
    from sqlalchemy import update

    from lms.personal_data import ErasureNote
    from lms.plugins.hoi_dap.models import Question

    count = db.execute(update(Question).where(Question.asker_id == user.id)
                       .values(asker_id=None, contact="")).rowcount or 0
    return [ErasureNote("hoidap_question", "anonymised", count,
                        "Giữ câu hỏi (không kèm tài khoản, cách liên lạc) để tổ công nghệ số vẫn trả lời được.")]


@hookimpl
def merge_accounts(db: Any, keep: Any, drop: Any, apply: bool) -> list[Any]:
    from sqlalchemy import func, select, update

    from lms.merging import MergeItem
    from lms.plugins.hoi_dap.models import Question

    count = db.exec(select(func.count()).select_from(Question).where(Question.asker_id == drop.id)).scalar() or 0
    if apply and count:
        db.execute(update(Question).where(Question.asker_id == drop.id).values(asker_id=keep.id))
    return [MergeItem("Câu hỏi gửi tổ công nghệ số", count)]


@hookimpl
def stats_figures(scope: Any, period: Any) -> list[Any]:
    from sqlalchemy import func, select

    from lms.plugins.hoi_dap.models import Question
    from lms.stats_scope import Figure, StatsScope

    if not isinstance(scope, StatsScope) or scope.db is None:
        return []
    if scope.audience or scope.village_id or scope.course_id:
        return []  # questions carry none of these: no figure rather than a wrong one

    def count(*where: Any) -> float:
        query = select(func.count()).select_from(Question).where(Question.asked_at < period.upper, *where)
        if period.lower is not None:
            query = query.where(Question.asked_at >= period.lower)
        if scope.commune_ids is not None:
            query = query.where(Question.commune_id.in_(scope.commune_ids))
        return float(scope.db.exec(query).scalar() or 0)

    return [
        Figure("hoi_dap.questions", "Câu hỏi gửi tổ công nghệ số", value=count(), unit="câu hỏi", order=86,
               by_course=False),
        Figure("hoi_dap.unanswered", "Câu hỏi chưa được trả lời", value=count(Question.status == "open"),
               unit="câu hỏi", order=87, by_course=False),
    ]
