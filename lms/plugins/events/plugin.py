"""The events plugin: QR registration, tickets and check-in."""

from typing import Any

from lms.events import listens_to
from lms.hookspecs import hookimpl
from lms.plugins import NavItem, PluginMeta
from lms.plugins.events.merging import merge_accounts, merge_villages  # noqa: F401 - hook implementations
from lms.plugins.events.personal_data import (  # noqa: F401 - hook implementations
    consent_purposes,
    personal_data_erase,
    personal_data_export,
)

meta = PluginMeta(name="events", label="Sự kiện", requires=["courses"])


@hookimpl
def register_routers() -> list[Any]:
    from lms.plugins.events.router import router

    return [router]


@hookimpl
def offline_pages() -> list[str]:
    # The form a hall opens: kept, so a weak network does not stop a registration.
    return ["/e/{code}"]


@hookimpl
def offline_forms() -> list[Any]:
    from lms.offline import OfflineForm

    # Each display of the form has its own key (made on the phone when the page comes from the
    # phone's copy), so sending it twice registers once; a refusal shows the form with the input.
    return [OfflineForm("/e/{code}", "Đăng ký sự kiện")]


@hookimpl
def nav_items(request: Any, user: Any) -> list[NavItem]:
    if user is not None and user.role in ("team_member", "staff", "admin"):
        return [NavItem("Sự kiện", "/staff/events", 60),
                NavItem("Màn hình hội trường", "/staff/man-hinh", 61, area="staff")]
    return []


@hookimpl
def page_sections(request: Any, user: Any, slot: str) -> list[Any]:
    """The person's tickets on their account page, the QR of those still to come."""
    if slot != "account" or user is None:
        return []
    from markupsafe import Markup

    from lms.db import read_session, utcnow
    from lms.plugins.events import services
    from lms.plugins.events.router import ticket_url
    from lms.qr import qr_svg

    with read_session(request.app.state.engine) as db:
        tickets = services.tickets_of(db, user_id=user.id)
    now = utcnow()
    rows = [(r, e, qr_svg(ticket_url(request, r.token)) if e.ends_at > now else None) for r, e in tickets[:5]]
    template = request.app.state.templates.get_template("events/account_section.html")
    return [Markup(template.render(tickets=rows))]  # noqa: S704 - autoescaped template output


@hookimpl
def stats_figures(scope: Any, period: Any) -> list[Any]:
    from lms.plugins.events.figures import stats_figures as figures

    return figures(scope, period)


@hookimpl
@listens_to("core.consent_changed")
def on_event(event: Any, context: Any) -> None:
    if event.purpose != "events" or event.granted:
        return
    from lms.plugins.events.personal_data import stop_processing

    with context.transaction() as db:
        stop_processing(db, user_id=event.user_id)


@hookimpl
def register_commands(cli: Any) -> None:
    import typer

    # "lms events" is the core's outbox group: registrations get their own.
    registrations = typer.Typer(help="Đăng ký sự kiện.", no_args_is_help=True)
    cli.add_typer(registrations, name="registrations")

    @registrations.command("anonymise-past")
    def anonymise_past() -> None:
        """Remove names and phones from registrations of events past the retention period
        (LMS_REGISTRATION_RETENTION_DAYS); counts stay. Run it daily (cron, systemd timer)."""
        from lms.context import Context
        from lms.db import make_engine
        from lms.plugins import build_plugin_manager
        from lms.plugins.events import services
        from lms.settings import Settings

        settings = Settings()
        engine = make_engine(settings)
        try:
            count = services.anonymise_past(Context(engine, build_plugin_manager(settings), settings),
                                            days=settings.registration_retention_days)
        finally:
            engine.dispose()
        typer.echo(f"Đã xoá họ tên, số điện thoại của {count} lượt đăng ký sự kiện đã hết thời hạn lưu trữ.")


@hookimpl
def channel_items(db: Any, commune_id: int | None, limit: int) -> list[Any]:
    from lms.plugins.events import channels

    return channels.channel_items(db, commune_id, limit)


@hookimpl
def evidence_choices(db: Any, user: Any) -> list[Any]:
    from lms.plugins.events import channels

    return channels.evidence_choices(db, user)


@hookimpl
def help_pages() -> list[Any]:
    from lms.help import HelpPage

    return [
        HelpPage("dang-ky-su-kien", "Đăng ký dự buổi học và giữ vé",
                 "Quét mã QR trên áp phích, điền tên và số điện thoại, đưa vé ở cửa; đặt mật khẩu để học tiếp.",
                 "events/help/register.html", role="learner", order=40),
        HelpPage("diem-danh", "Điểm danh ở cửa",
                 "Quét vé bằng máy ảnh, gõ mã vé hoặc tìm theo tên; ghi nhận cả người đến mà chưa đăng ký.",
                 "events/help/checkin.html", role="team_member", order=40),
        HelpPage("tao-su-kien", "Tạo sự kiện, in áp phích",
                 "Tạo buổi học hay buổi tuyên truyền, in áp phích A4 có mã QR để người dân tự đăng ký.",
                 "events/help/create.html", role="staff", order=10),
    ]
