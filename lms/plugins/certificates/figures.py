"""What the certificates plugin contributes to the statistics dashboard: issued and revoked."""

from typing import Any

from sqlalchemy import select

from lms.plugins.certificates.models import Certificate
from lms.stats_scope import Figure, StatsScope


def stats_figures(scope: Any, period: Any) -> list[Any]:
    if not isinstance(scope, StatsScope):
        return []
    # Issue and revocation are counted on their own days, so a past week's figures
    # never change afterwards (and can be kept pre-aggregated).
    return [
        Figure("certificates.issued", "Chứng nhận đã cấp", order=60, unit="chứng nhận", facts=select(
            Certificate.issued_at.label("at"), Certificate.user_id, Certificate.course_id)),
        Figure("certificates.revoked", "Chứng nhận bị thu hồi", order=61, unit="chứng nhận", facts=select(
            Certificate.revoked_at.label("at"), Certificate.user_id, Certificate.course_id)
            .where(Certificate.revoked_at.is_not(None))),
    ]
