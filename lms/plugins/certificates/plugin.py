"""The certificates plugin: issue once on course completion, verify by QR, PDF, signed credential."""

from typing import Any

import typer

from lms.hookspecs import hookimpl
from lms.plugins import NavItem, PluginMeta

meta = PluginMeta(name="certificates", label="Chứng nhận", requires=["courses"])


@hookimpl
def register_routers() -> list[Any]:
    from lms.plugins.certificates.router import router

    return [router]


@hookimpl
def on_event(event: Any, context: Any) -> None:
    if event.name != "courses.completed":
        return
    from lms.db import write_session
    from lms.plugins.certificates import services

    with write_session(context.engine) as db:
        services.issue(db, settings=context.settings, user_id=event.user_id, course_id=event.course_id)


@hookimpl
def nav_items(request: Any, user: Any) -> list[NavItem]:
    # A learner reaches their certificates from the account page; staff from the staff area.
    if user is not None and user.role in ("staff", "admin"):
        return [NavItem("Chứng nhận đã cấp", "/staff/certificates", 76, area="staff")]
    return []


@hookimpl
def page_sections(request: Any, user: Any, slot: str) -> list[Any]:
    from markupsafe import Markup

    if slot == "home":
        return [Markup('<p class="muted">Có mã chứng nhận? <a href="/c">Kiểm tra chứng nhận</a>.</p>')]
    if slot == "account":
        return [Markup('<p><a class="btn secondary" href="/my/certificates">Chứng nhận của tôi</a></p>')]
    return []


@hookimpl
def register_commands(cli: Any) -> None:
    certificates = typer.Typer(help="Chứng nhận.", no_args_is_help=True)
    cli.add_typer(certificates, name="certificates")

    @certificates.command("verify")
    def verify(path: str = typer.Argument(..., help="A downloaded credential (.json).")) -> None:
        """Check a credential offline: valid, tampered, or revoked as of this installation's data."""
        from lms.plugins.certificates.commands import verify_file

        raise typer.Exit(verify_file(path))


@hookimpl
def stats_figures(scope: Any, period: Any) -> list[Any]:
    from lms.plugins.certificates.figures import stats_figures as figures

    return figures(scope, period)
