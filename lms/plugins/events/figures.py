"""What the events plugin contributes to the statistics dashboard: registrations and attendance."""

from typing import Any

from sqlalchemy import Integer, cast, null, select

from lms.plugins.events.models import Registration
from lms.stats_scope import Figure, StatsScope


def stats_figures(scope: Any, period: Any) -> list[Any]:
    if not isinstance(scope, StatsScope):
        return []
    no_course = cast(null(), Integer).label("course_id")
    return [
        Figure("events.registered", "Lượt đăng ký sự kiện", order=70, by_course=False,
               facts=select(Registration.registered_at.label("at"), Registration.user_id, no_course)),
        Figure("events.checked_in", "Lượt có mặt tại sự kiện", order=71, by_course=False, activity=True,
               facts=select(Registration.checked_in_at.label("at"), Registration.user_id, no_course)
               .where(Registration.checked_in_at.is_not(None))),
    ]
