"""Mức phổ cập kỹ năng số cơ bản: administrators choose, for each audience, the courses that make
up the basic level; completing them all gives a record with its own printable paper and QR, a
line on the account page, and a statistics figure per audience and village."""

from typing import Any

from lms.events import listens_to
from lms.hookspecs import hookimpl
from lms.plugins import NavItem, PluginMeta

meta = PluginMeta(name="programmes", label="Mức phổ cập kỹ năng số", requires=["courses"])


@hookimpl
def register_routers() -> list[Any]:
    from lms.plugins.programmes.router import router

    return [router]


@hookimpl
@listens_to("courses.completed")
def on_event(event: Any, context: Any) -> None:
    from lms.plugins.programmes import services

    # Delivered at least once: the completion row is unique per learner and audience.
    with context.transaction() as db:
        services.check_learner(db, user_id=event.user_id)


@hookimpl
def page_sections(request: Any, user: Any, slot: str) -> list[Any]:
    if slot != "account" or user is None:
        return []
    from markupsafe import Markup

    from lms.db import read_session
    from lms.plugins.courses import services as courses
    from lms.plugins.programmes import services

    with read_session(request.app.state.engine) as db:
        found = services.standing(db, courses.catalog(request, db), user)
    if found is None:
        return []
    template = request.app.state.templates.get_template("programmes/account_section.html")
    code = services.display_code(found.completion.code) if found.completion else ""
    return [Markup(template.render(standing=found, code=code, level=services.LEVEL))]  # noqa: S704


@hookimpl
def stats_figures(scope: Any, period: Any) -> list[Any]:
    from sqlalchemy import Integer, cast, null, select

    from lms.plugins.programmes.models import ProgrammeCompletion
    from lms.stats_scope import Figure, StatsScope

    if not isinstance(scope, StatsScope):
        return []
    return [Figure("programmes.level_reached", "Người hoàn thành mức phổ cập kỹ năng số cơ bản", order=58,
                   unit="người", by_course=False,
                   facts=select(ProgrammeCompletion.completed_at.label("at"), ProgrammeCompletion.user_id,
                                cast(null(), Integer).label("course_id")))]


@hookimpl
def nav_items(request: Any, user: Any) -> list[NavItem]:
    if user is not None and user.role == "admin":
        return [NavItem("Mức phổ cập kỹ năng số", "/staff/pho-cap", 79, area="staff")]
    return []


@hookimpl
def merge_accounts(db: Any, keep: Any, drop: Any, apply: bool) -> list[Any]:
    from sqlalchemy import delete, select, update

    from lms.merging import MergeItem
    from lms.plugins.programmes.models import ProgrammeCompletion

    moving = db.exec(select(ProgrammeCompletion).where(ProgrammeCompletion.user_id == drop.id)).scalars().all()
    kept = set(db.exec(select(ProgrammeCompletion.audience).where(
        ProgrammeCompletion.user_id == keep.id)).scalars().all())
    both = [c.id for c in moving if c.audience in kept]
    if apply:
        if both:
            db.execute(delete(ProgrammeCompletion).where(ProgrammeCompletion.id.in_(both)))
        db.execute(update(ProgrammeCompletion).where(ProgrammeCompletion.user_id == drop.id)
                   .values(user_id=keep.id))
    return [MergeItem("Hoàn thành mức phổ cập", len(moving) - len(both),
                      "cả hai tài khoản đã đạt: giữ bản của tài khoản được giữ" if both else "")]



@hookimpl
def personal_data_export(db: Any, user: Any) -> list[Any]:
    from sqlalchemy import select

    from lms.personal_data import DataSection, as_rows
    from lms.plugins.programmes.models import ProgrammeCompletion

    rows = db.exec(select(ProgrammeCompletion).where(ProgrammeCompletion.user_id == user.id)).scalars().all()
    return [DataSection("programmes_completion", "Hoàn thành mức phổ cập kỹ năng số", as_rows(rows, {
        "Nhóm": "audience", "Họ tên trên giấy": "learner_name", "Hoàn thành lúc": "completed_at"}))]


@hookimpl
def personal_data_erase(db: Any, user: Any, actor: Any) -> list[Any]:
    from sqlalchemy import select

    from lms.personal_data import ERASED_NAME, ErasureNote
    from lms.plugins.programmes.models import ProgrammeCompletion

    rows = db.exec(select(ProgrammeCompletion).where(ProgrammeCompletion.user_id == user.id)).scalars().all()
    for row in rows:
        row.learner_name = ERASED_NAME
        db.add(row)
    return [ErasureNote("programmes_completion", "anonymised", len(rows),
                        "Giữ việc hoàn thành (không kèm tên) cho số liệu thống kê.")]
