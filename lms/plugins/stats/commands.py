"""Commands of the statistics plugin: `lms demo-data` (development only) and `lms stats rebuild`."""

import time
from typing import Any

import typer

from lms.settings import Settings

# Bulk work in a command (not a server): a larger SQLite page cache for its connections.
BULK_CACHE_KIB = 256 * 1024


def bulk_engine(settings: Settings) -> Any:
    """The database engine for a bulk command: on SQLite each connection gets a page cache of
    BULK_CACHE_KIB (the default 2 MB makes a province-sized load and sum re-read pages)."""
    from sqlalchemy import event

    from lms.db import make_engine

    engine = make_engine(settings)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _bigger_cache(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
    return engine


def register(cli: typer.Typer) -> None:
    stats = typer.Typer(help="Thống kê.", no_args_is_help=True)
    cli.add_typer(stats, name="stats")

    @stats.command("rebuild")
    def rebuild() -> None:
        """Sum every finished week again (after importing or correcting past data)."""
        from lms.plugin_host import build_plugin_manager
        from lms.plugins.stats import summary

        settings = Settings()
        engine = bulk_engine(settings)
        try:
            known = summary.refresh(engine, build_plugin_manager(settings), rebuild=True)
        finally:
            engine.dispose()
        typer.echo(f"Đã tổng hợp số liệu các ngày trước ngày {known.days_until:%d/%m/%Y}.")

    @cli.command("demo-data")
    def demo_data(
        communes: int = typer.Option(20, min=1, max=500, help="Communes to add."),
        learners: int = typer.Option(100_000, min=1, max=5_000_000, help="Learners to add, spread over them."),
        months: int = typer.Option(12, min=1, max=60, help="How far back the activity goes."),
        seed: int = typer.Option(2026, help="Random seed (same seed, same people)."),
    ) -> None:
        """DEVELOPMENT ONLY: add invented communes, learners, progress, certificates and events.

        Writes other plugins' tables directly; never run it on a real installation."""
        from lms.plugin_host import build_plugin_manager
        from lms.plugins.stats import demo, summary

        settings = Settings()
        engine = bulk_engine(settings)
        try:
            report = demo.generate(engine, settings, communes=communes, learners=learners, months=months, seed=seed)
            started = time.perf_counter()
            summary.refresh(engine, build_plugin_manager(settings), rebuild=True)
            summed = time.perf_counter() - started
        except demo.DemoError as exc:
            typer.echo(f"Lỗi: {exc}", err=True)
            raise typer.Exit(1) from exc
        finally:
            engine.dispose()
        typer.echo(f"Đã thêm {report.communes} xã/phường, {report.villages} thôn/tổ dân phố:")
        for table, rows in report.rows.items():
            typer.echo(f"  {table:<28} {rows:>9}")
        typer.echo("Dữ liệu mẫu, chỉ dùng để thử và đo (không dùng cho hệ thống thật). "
                   f"Tạo: {report.seconds:.1f} giây; tổng hợp số liệu: {summed:.1f} giây.")
