"""What the courses plugin contributes to the statistics dashboard: lessons and courses completed."""

from typing import Any

from sqlalchemy import or_, select

from lms.plugins.courses.models import Course, Enrolment, LessonProgress
from lms.stats_scope import DimensionMember, Figure, StatsDimension, StatsScope


def stats_figures(scope: Any, period: Any) -> list[Any]:
    if not isinstance(scope, StatsScope):
        return []
    statement = select(Course.id, Course.slug, Course.title).where(Course.retired.is_(False))
    if scope.commune_ids is not None:
        # A commune's own course is in its statistics only (its facts are its people's anyway).
        statement = statement.where(or_(Course.commune_id.is_(None), Course.commune_id.in_(scope.commune_ids)))
    courses = scope.db.exec(statement.order_by(Course.position, Course.title)).all()
    return [
        StatsDimension("course", tuple(DimensionMember(c.id, c.slug, c.title) for c in courses)),
        Figure("courses.lessons_completed", "Lượt hoàn thành bài học", order=30, activity=True,
               facts=select(LessonProgress.completed_at.label("at"), LessonProgress.user_id,
                            LessonProgress.course_id)),
        Figure("courses.completed", "Khóa học đã hoàn thành", order=55, facts=select(
            Enrolment.completed_at.label("at"), Enrolment.user_id, Enrolment.course_id)
            .where(Enrolment.completed_at.is_not(None))),
    ]
