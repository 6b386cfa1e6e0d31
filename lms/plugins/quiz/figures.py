"""What the quiz plugin contributes to the statistics dashboard: attempts submitted and passed."""

from typing import Any

from sqlalchemy import select

from lms.plugins.quiz.models import QuizAttempt
from lms.stats_scope import Figure, StatsScope


def stats_figures(scope: Any, period: Any) -> list[Any]:
    if not isinstance(scope, StatsScope):
        return []
    submitted = select(QuizAttempt.submitted_at.label("at"), QuizAttempt.user_id, QuizAttempt.course_id)
    return [
        Figure("quiz.submitted", "Lượt nộp bài kiểm tra", order=50, activity=True,
               facts=submitted.where(QuizAttempt.submitted_at.is_not(None))),
        Figure("quiz.passed", "Lượt đạt bài kiểm tra", order=51,
               facts=submitted.where(QuizAttempt.submitted_at.is_not(None), QuizAttempt.passed.is_(True))),
        Figure("quiz.pass_rate", "Tỷ lệ đạt bài kiểm tra", order=52, unit="%",
               ratio=("quiz.passed", "quiz.submitted")),
    ]
