"""The courses plugin: content packs, catalog, lessons, progress."""

from typing import Any

import typer

from lms.hookspecs import hookimpl
from lms.plugins import PluginMeta

meta = PluginMeta(name="courses", label="Khóa học")

NOT_YET = (
    "Chưa hỗ trợ: việc kiểm tra và nạp gói khóa học thuộc issue #3 (course packs), "
    "chưa được xây dựng. Lệnh này chưa làm gì."
)


@hookimpl
def register_commands(cli: Any) -> None:
    courses = typer.Typer(help="Gói khóa học trong courses/.", no_args_is_help=True)
    cli.add_typer(courses, name="courses")

    @courses.command("check")
    def check() -> None:
        """Validate every course pack (not built yet: says so)."""
        typer.echo(NOT_YET)

    @courses.command("sync")
    def sync() -> None:
        """Load course packs into the database (not built yet: says so)."""
        typer.echo(NOT_YET)
