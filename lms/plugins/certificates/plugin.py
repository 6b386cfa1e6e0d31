"""The certificates plugin: issue once on course completion, verify by QR, PDF, signed credential."""

from typing import Any

import typer

from lms.events import listens_to
from lms.hookspecs import hookimpl
from lms.plugins import NavItem, PluginMeta

meta = PluginMeta(name="certificates", label="Chứng nhận", requires=["courses"])


@hookimpl
def register_routers() -> list[Any]:
    from lms.plugins.certificates.router import router
    from lms.plugins.certificates.sharing_router import router as sharing_router

    return [router, sharing_router]


@hookimpl
@listens_to("courses.completed")
def on_event(event: Any, context: Any) -> None:
    from lms.plugins.certificates import services

    # Delivered at least once: issue() returns the certificate an earlier delivery made.
    with context.transaction() as db:
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
    if slot == "account" and user is not None:
        from lms.db import read_session
        from lms.plugins.certificates import services

        with read_session(request.app.state.engine) as db:
            rows = [(c, services.display_code(c.code)) for c in services.of_learner(db, user_id=user.id)]
        template = request.app.state.templates.get_template("certificates/account_section.html")
        # An autoescaping template's output is already safe HTML.
        return [Markup(template.render(rows=rows[:5]))]  # noqa: S704
    return []


# --- Hooks of the teams plugin (optional: certificates runs without teams) -------------


@hookimpl(optionalhook=True)
def resident_sections(request: Any, db: Any, person: Any, helper: Any) -> list[Any]:
    """The person's certificates on a team member's page about a resident."""
    from markupsafe import Markup

    from lms.plugins.certificates import services

    rows = [(c, services.display_code(c.code)) for c in services.of_learner(db, user_id=person.id)]
    template = request.app.state.templates.get_template("certificates/resident_section.html")
    # An autoescaping template's output is already safe HTML.
    return [Markup(template.render(rows=rows))]  # noqa: S704


@hookimpl(optionalhook=True)
def resident_credentials(db: Any, user_ids: list[int]) -> dict[int, int]:
    """Valid (not revoked) certificates per learner, for the team's resident list."""
    from lms.plugins.certificates import services

    return services.valid_counts(db, user_ids=list(user_ids))


@hookimpl
def register_commands(cli: Any) -> None:
    certificates = typer.Typer(help="Chứng nhận.", no_args_is_help=True)
    cli.add_typer(certificates, name="certificates")
    from lms.plugins.certificates.commands import verify_command

    certificates.command("verify")(verify_command)


@hookimpl
def stats_figures(scope: Any, period: Any) -> list[Any]:
    from lms.plugins.certificates.figures import stats_figures as figures

    return figures(scope, period)


@hookimpl
def merge_accounts(db: Any, keep: Any, drop: Any, actor: Any, apply: bool) -> list[Any]:
    from lms.plugins.certificates.merging import merge_rows

    return merge_rows(db, keep=keep, drop=drop, actor=actor, apply=apply)


@hookimpl
def personal_data_export(db: Any, user: Any) -> list[Any]:
    from lms.plugins.certificates import personal_data

    return personal_data.export(db, user)


@hookimpl
def personal_data_erase(db: Any, user: Any, actor: Any) -> list[Any]:
    from lms.plugins.certificates import personal_data

    return personal_data.erase(db, user, actor)


@hookimpl
def help_pages() -> list[Any]:
    from lms.help import HelpPage

    return [HelpPage("chung-nhan", "Nhận và đưa ra chứng nhận",
                     "Học xong khóa để được cấp chứng nhận; xem, tải PDF, in, và để người khác kiểm tra bằng mã.",
                     "certificates/help/certificate.html", role="learner", order=30)]
