"""Core commands: serve, migrate, users, places, set-up link."""

from typing import Any

import typer
from sqlmodel import Session

from lms.settings import Settings

ROLE_HELP = "learner | team_member | staff | admin"


def register(cli: typer.Typer) -> None:
    users = typer.Typer(help="Tài khoản người dùng.", no_args_is_help=True)
    places = typer.Typer(help="Đơn vị hành chính.", no_args_is_help=True)
    cli.add_typer(users, name="users")
    cli.add_typer(places, name="places")

    @cli.command()
    def migrate() -> None:
        """Apply database migrations up to the newest version."""
        from lms import migrations

        settings = Settings()
        migrations.upgrade(settings)
        typer.echo("Cơ sở dữ liệu đã được cập nhật.")

    @cli.command()
    def serve(
        host: str = typer.Option("127.0.0.1", help="Address to listen on."),
        port: int = typer.Option(8000, help="Port."),
        workers: int = typer.Option(1, help="Worker processes."),
    ) -> None:
        """Serve the site; prints a one-time set-up link while there is no administrator."""
        import uvicorn

        from lms.db import make_engine
        from lms.keys import StartupRefused, installation_keys

        settings = Settings()
        engine = make_engine(settings)
        try:
            # Resolved once here, before workers race for them; refuses with a clear message.
            installation_keys(settings, engine)
        except StartupRefused as exc:
            typer.echo(f"Không khởi động được: {exc}", err=True)
            raise typer.Exit(2) from exc
        finally:
            engine.dispose()
        link = first_admin_link(settings)
        if link:
            typer.echo("\nChưa có quản trị viên. Mở liên kết sau (dùng được một lần) để tạo:")
            typer.echo(f"  {link}\n")
        _metrics_folder(settings)
        uvicorn.run(
            "lms.app:create_app", factory=True, host=host, port=port, workers=workers,
            # Our own request log names the route, never the raw path: paths may
            # carry tokens (tickets, set-up links).
            # Forwarded headers are read by lms.web with LMS_TRUSTED_PROXIES, nowhere else.
            access_log=False, proxy_headers=False, log_config=log_config(),
        )

    @cli.command("setup-link")
    def setup_link() -> None:
        """Print a one-time link to create the first administrator."""
        link = first_admin_link(Settings())
        typer.echo(link or "Đã có quản trị viên; không cần liên kết thiết lập.")

    @users.command("create")
    def users_create(
        phone: str = typer.Option(..., help="Mobile number."),
        name: str = typer.Option(..., "--name", help="Full name."),
        role: str = typer.Option("learner", help=ROLE_HELP),
        commune: int | None = typer.Option(None, help="Commune id (staff, team members)."),
        password: str = typer.Option(
            ..., prompt=True, hide_input=True, confirmation_prompt=True, help="Password."
        ),
    ) -> None:
        """Create an account."""
        from lms.core import services
        from lms.db import make_engine, write_session
        from lms.text import InvalidInput

        settings = Settings()
        engine = make_engine(settings)
        try:
            with write_session(engine) as db:
                user = services.create_user(
                    db, full_name=name, phone=phone, password=password, role=role,
                    commune_id=commune, settings=settings,
                )
                typer.echo(f"Đã tạo tài khoản #{user.id} ({user.full_name}, vai trò {user.role}).")
        except (services.ServiceError, InvalidInput) as exc:
            typer.echo(f"Lỗi: {exc}", err=True)
            raise typer.Exit(1) from exc

    @places.command("demo")
    def places_demo() -> None:
        """Load one example province, commune and villages (safe to run again)."""
        from lms.core import services
        from lms.db import make_engine, write_session

        engine = make_engine(Settings())
        with write_session(engine) as db:
            commune = services.load_demo_places(db)
            typer.echo(f"Dữ liệu mẫu: {commune.name} (mã {commune.id}) và các tổ dân phố.")

    @places.command("import")
    def places_import(
        province: str = typer.Option(..., "--province", help='Name or code in the national list ("Hải Phòng", 31).'),
    ) -> None:
        """Load a province and its communes/wards from the national list, with their codes (safe to run again)."""
        from lms.core import official_places
        from lms.db import make_engine, write_session

        official = official_places.find_province(province)
        if official is None:
            names = ", ".join(p.name for p in official_places.provinces())
            typer.echo(f"Không có tỉnh/thành phố «{province}» trong danh mục. Các tên có: {names}.", err=True)
            raise typer.Exit(1)
        engine = make_engine(Settings())
        try:
            with write_session(engine) as db:
                report = official_places.import_province(db, official)
                typer.echo(f"{official.name} (mã {official.code}), {len(official.communes)} xã/phường/đặc khu "
                           f"theo danh mục {official_places.data_version()}: thêm {report.added}, đổi tên "
                           f"{report.renamed}, gắn mã cho {report.coded} đơn vị đã nhập tay, giữ nguyên "
                           f"{report.unchanged}.")
        finally:
            engine.dispose()

    @places.command("list")
    def places_list() -> None:
        """List provinces, communes and villages with their ids."""
        from sqlalchemy import select

        from lms.core.models import Place
        from lms.db import make_engine

        engine = make_engine(Settings())
        with Session(engine) as db:
            rows = db.exec(select(Place).order_by(Place.kind, Place.name)).scalars().all()
        for place in rows:
            state = "" if place.active else " (ngừng)"
            typer.echo(f"{place.id:>5}  {place.kind:<8}  {place.name}{state}")


def _metrics_folder(settings: Settings) -> None:
    """Every worker writes its figures to a folder under instance/metrics/ (new and empty, made
    before they start), so any worker's /metrics shows them all. Set before the workers import
    prometheus_client: each is a new interpreter (spawned) that inherits this environment. A
    folder set by whoever runs the server (PROMETHEUS_MULTIPROC_DIR) is theirs: used as it is."""
    import os

    from lms import metrics

    if os.environ.get(metrics.MULTIPROC_ENV):
        return
    folder = metrics.server_directory((settings.instance_dir / "metrics").resolve())
    os.environ[metrics.MULTIPROC_ENV] = str(folder)


def log_config() -> dict:
    """One JSON object a line (lms.logs), each with the request id where a request wrote it."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    from lms.logs import server_config

    config = copy.deepcopy(LOGGING_CONFIG)
    config["handlers"]["queued"] = {"()": "lms.core.commands.queued_handler", "formatter": "default"}
    config["loggers"]["lms"] = {"handlers": ["queued"], "level": "INFO", "propagate": False}
    return server_config(config)


def queued_handler() -> Any:
    """The request log is written by a thread of its own: a request hands its line over and goes
    on (writing one line per request to stderr cost a tenth of a page's time)."""
    import atexit
    import logging
    import logging.handlers
    import queue

    lines: queue.SimpleQueue = queue.SimpleQueue()
    writer = logging.StreamHandler()

    class Queued(logging.handlers.QueueHandler):
        def setFormatter(self, fmt: Any) -> None:  # noqa: N802 - logging's name
            super().setFormatter(fmt)
            writer.setFormatter(fmt)

        def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
            return record  # formatted by the writer, off the request's thread

    listener = logging.handlers.QueueListener(lines, writer, respect_handler_level=False)
    listener.start()
    atexit.register(listener.stop)
    return Queued(lines)


def first_admin_link(settings: Settings) -> str | None:
    """A fresh one-time set-up URL when no administrator exists yet."""
    from lms.core import services
    from lms.db import make_engine, write_session

    engine = make_engine(settings)
    try:
        with write_session(engine) as db:
            if services.admin_exists(db):
                return None
            token = services.create_setup_token(db)
    finally:
        engine.dispose()
    return f"{settings.base_url.rstrip('/')}/setup/{token}"


def register_events(cli: typer.Typer) -> None:
    events = typer.Typer(help="Sự kiện miền (outbox): xem và gửi lại.", no_args_is_help=True)
    cli.add_typer(events, name="events")

    @events.command("pending")
    def events_pending(limit: int = typer.Option(200, help="At most this many.")) -> None:
        """List domain events not yet delivered to every handler, oldest first."""
        from lms.db import make_engine
        from lms.events import pending
        from lms.templating import local

        engine = make_engine(Settings())
        try:
            rows = pending(engine, limit=limit)
        finally:
            engine.dispose()
        if not rows:
            typer.echo("Không có sự kiện nào đang chờ.")
            return
        for row in rows:
            handled = ", ".join(row.handled) or "-"
            typer.echo(f"#{row.id}  {row.name}  {local(row.created_at):%d/%m/%Y %H:%M}  "
                       f"lần thử: {row.attempts}  đã xử lý: {handled}  lỗi: {row.last_error or '-'}")
        typer.echo(f"{len(rows)} sự kiện đang chờ.")

    @events.command("deliver")
    def events_deliver() -> None:
        """Deliver the pending events that are due now (what the server does periodically)."""
        from lms.context import Context
        from lms.db import make_engine
        from lms.events import deliver, pending_ids
        from lms.keys import installation_keys
        from lms.plugin_host import build_plugin_manager

        settings = Settings()
        engine = make_engine(settings)
        try:
            context = Context(engine, build_plugin_manager(settings), installation_keys(settings, engine))
            delivered = deliver(context)
            left = len(pending_ids(engine))
            failed = len(pending_ids(engine, due_only=True))
        finally:
            engine.dispose()
        typer.echo(f"Đã gửi {delivered} sự kiện; còn {left} sự kiện chờ"
                   + (f", {failed} sự kiện đến hạn mà chưa gửi được." if failed else "."))
        # Events waiting for their retry, or claimed by a host that stopped, are not a failure
        # of this run: a timer running it would otherwise show "failed" after any host dies.
        raise typer.Exit(1 if failed else 0)


def register_data(cli: typer.Typer) -> None:
    from pathlib import Path

    database = typer.Typer(help="Cơ sở dữ liệu: chép sang PostgreSQL.", no_args_is_help=True)
    cli.add_typer(database, name="db")

    @database.command("copy")
    def db_copy(
        to: str = typer.Option(..., "--to", help="URL of an empty database, e.g. postgresql://user@host/lms."),
        source: str = typer.Option("", "--from", help="URL to copy from; default: this installation's."),
    ) -> None:
        """Copy this installation's database into an empty one (SQLite → PostgreSQL), then verify it."""
        import time

        from lms.dbcopy import CopyRefused, copy_database

        settings = Settings()
        started = time.perf_counter()
        try:
            copied = copy_database(settings, source or settings.resolved_database_url, to,
                                   progress=lambda name, rows: typer.echo(f"  {name:<32} {rows:>9}"))
        except CopyRefused as exc:
            typer.echo(f"Không chép được: {exc}", err=True)
            raise typer.Exit(1) from exc
        rows = sum(t.rows for t in copied)
        typer.echo(f"Đã chép {len(copied)} bảng, {rows} dòng trong {time.perf_counter() - started:.1f} giây; "
                   "số dòng và mã kiểm tra của từng bảng khớp với nguồn.")
        typer.echo("Tiếp theo: đặt LMS_DATABASE_URL trỏ tới cơ sở dữ liệu mới và chạy lại máy chủ.")

    @cli.command()
    def backup(to: Path | None = typer.Option(None, "--to", help="File to write (.tar.gz); "
                                                                   "default: instance/backups/.")) -> None:
        """Write a consistent backup: the database, the instance keys, media kept on disk."""
        from lms import backup as backups

        try:
            report = backups.create(Settings(), to)
        except backups.BackupError as exc:
            typer.echo(f"Không sao lưu được: {exc}", err=True)
            raise typer.Exit(1) from exc
        typer.echo(f"Đã sao lưu {report.tables} bảng ({report.rows} dòng), {len(report.keys)} tệp khóa, "
                   f"{report.media_files} tệp media vào {report.path}.")
        typer.echo("Tệp này chứa khóa ký chứng nhận và dữ liệu cá nhân: giữ kín, cất ở nơi khác máy chủ.")
        if report.keys_in_settings:
            typer.echo("Khóa đặt bằng LMS_SECRET_KEY / LMS_SIGNING_KEY không nằm trong tệp: hãy cất chúng riêng.")

    @cli.command()
    def restore(path: Path = typer.Argument(..., help="A file written by `lms backup`.")) -> None:
        """Restore a backup into this installation, which must be empty; then verify every table."""
        from lms import backup as backups
        from lms import migrations

        settings = Settings()
        try:
            manifest = backups.restore(settings, path)
        except backups.BackupError as exc:
            typer.echo(f"Không khôi phục được: {exc}", err=True)
            raise typer.Exit(1) from exc
        rows = sum(t["rows"] for t in manifest["tables"].values())
        typer.echo(f"Đã khôi phục bản sao lưu lúc {manifest['created_at']}: {len(manifest['tables'])} bảng, "
                   f"{rows} dòng, khớp từng bảng.")
        if frozenset(manifest["migrations"]) != migrations.script_heads(settings):
            typer.echo("Bản sao lưu thuộc phiên bản cũ hơn: hãy chạy `lms migrate` trước khi chạy máy chủ.")
