"""The courses plugin: content packs, catalog by audience, lessons, progress."""

from pathlib import Path
from typing import Any

import typer

from lms import paths
from lms.events import listens_to
from lms.hookspecs import hookimpl
from lms.plugins import NavItem, PluginMeta
from lms.plugins.courses import hookspecs  # noqa: F401 - offered to other plugins
from lms.plugins.courses.merging import merge_accounts  # noqa: F401 - a hook implementation
from lms.plugins.courses.personal_data import (  # noqa: F401 - hook implementations
    personal_data_erase,
    personal_data_export,
)

meta = PluginMeta(name="courses", label="Khóa học")


@hookimpl
def register_routers() -> list[Any]:
    from lms.plugins.courses.offline import router as offline
    from lms.plugins.courses.router import router
    from lms.plugins.courses.studio import router as studio

    return [router, studio, offline]


@hookimpl
def offline_pages() -> list[str]:
    from lms.plugins.courses.offline import OFFLINE_PAGES

    return OFFLINE_PAGES


@hookimpl
def inline_scripts() -> list[str]:
    from lms.plugins.courses.audio import BROWSER_VOICE_SCRIPT

    return [BROWSER_VOICE_SCRIPT]


@hookimpl
def offline_forms() -> list[Any]:
    from lms.offline import OfflineForm

    # Marking a lesson done twice is marking it once.
    return [OfflineForm("/courses/{slug}/{lesson_slug}/done", "Đánh dấu đã học xong bài")]


@hookimpl
def course_pack_dirs() -> list[Path]:
    return [paths.courses_dir()]


@hookimpl
def nav_items(user: Any) -> list[NavItem]:
    items = [NavItem("Khóa học", "/courses", 20)]
    if user is not None:
        items.append(NavItem("Khóa học của tôi", "/my/courses", 21))
    if user is not None and user.role in ("staff", "admin"):
        items.append(NavItem("Soạn khóa học", "/studio", 66))
    return items


@hookimpl
def page_sections(request: Any, user: Any, slot: str) -> list[Any]:
    from lms.plugins.courses.sections import account_section, home_section

    if slot == "home":
        return [home_section(request, user)]
    if slot == "account":
        return [account_section(request, user)]
    return []


@hookimpl
@listens_to("quiz.passed", "core.accounts_merged")
def on_event(event: Any, context: Any) -> None:
    from lms.plugins.courses import merging, services

    if event.name == "core.accounts_merged":
        # The combined progress of two accounts may complete a course neither had completed.
        with context.transaction() as db:
            merging.recheck_completion(db, pm=context.pm, user_id=event.kept_id)
        return
    # Passing the quiz may be the last thing a course needed.
    with context.transaction() as db:
        course = services.Catalog().refresh(db).by_slug_id(event.course_id)
        if course is not None:
            services.check_completion(db, pm=context.pm, user_id=event.user_id, course=course)


@hookimpl
def register_commands(cli: Any) -> None:
    courses = typer.Typer(help="Gói khóa học (courses/ và của các plugin).", no_args_is_help=True)
    cli.add_typer(courses, name="courses")

    @courses.command("check")
    def check() -> None:
        """Validate every course pack; prints path:line: message for each problem."""
        from lms.plugins.courses.commands import check_packs

        raise typer.Exit(check_packs())

    @courses.command("sync")
    def sync() -> None:
        """Load course packs into the database (safe to run again)."""
        from lms.plugins.courses.commands import sync_packs

        raise typer.Exit(sync_packs())


@hookimpl
def stats_figures(scope: Any, period: Any) -> list[Any]:
    from lms.plugins.courses.figures import stats_figures as figures

    return figures(scope, period)


@hookimpl
def channel_items(db: Any, commune_id: int | None, limit: int) -> list[Any]:
    from lms.plugins.courses import channels

    return channels.channel_items(db, commune_id, limit)


@hookimpl
def evidence_choices(db: Any, user: Any) -> list[Any]:
    from lms.plugins.courses import channels

    return channels.evidence_choices(db, user)


@hookimpl
def setup_checks(db: Any, settings: Any) -> list[Any]:
    from lms.plugins.courses.setup_checks import setup_checks as checks

    return checks(db)


@hookimpl
def help_pages() -> list[Any]:
    from lms.help import HelpPage

    return [
        HelpPage("hoc-mot-bai", "Học một bài",
                 "Chọn khóa học, đọc hoặc nghe bài, bấm Đã học xong bài này, làm bài kiểm tra cuối khóa.",
                 "courses/help/lesson.html", role="learner", order=20),
        HelpPage("soan-bai-hoc", "Soạn và xuất bản bài học",
                 "Cho cán bộ được giao quyền soạn khóa học (như cán bộ văn hóa – xã hội): viết bài, xem trước, "
                 "xuất bản.", "courses/help/write.html", role="staff", order=40),
    ]
