"""The arguments and answers of the stats_figures hook: scope, period, figures, dimensions."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def local_today(now: datetime | None = None) -> date:
    """Today's date in Vietnam; every period and week is counted in local days."""
    return (now or datetime.now(UTC)).astimezone(VIETNAM).date()


def local_midnight(day: date) -> datetime:
    """The start of a local day, as aware UTC (what timestamp columns hold)."""
    return datetime.combine(day, time(), tzinfo=VIETNAM).astimezone(UTC)


@dataclass(frozen=True)
class StatsPeriod:
    """Local days from `start` to `end`, both included; no start means since the beginning."""

    start: date | None
    end: date

    @property
    def lower(self) -> datetime | None:
        return local_midnight(self.start) if self.start else None

    @property
    def upper(self) -> datetime:
        """Exclusive upper bound: the midnight after `end`."""
        return local_midnight(self.end + timedelta(days=1))


@dataclass(frozen=True)
class StatsScope:
    """Whose figures: a read session and the filters a dashboard view applies.

    `commune_ids` None means the whole installation. `audience`, `village_id` and
    `course_id` narrow further; None means no filter."""

    db: Any
    commune_ids: tuple[int, ...] | None = None
    audience: str | None = None
    village_id: int | None = None
    course_id: int | None = None


@dataclass(frozen=True)
class Figure:
    """One figure for the dashboard.

    Give either `facts`, a SELECT with the columns `at` (when it happened, aware UTC),
    `user_id` (whose figure it is) and `course_id` (or NULL), one row per occurrence —
    the statistics plugin then filters, groups and pre-aggregates it itself — or a
    ready `value` computed for the scope and period the hook was called with. A
    `ratio` (numerator key, denominator key) makes a percentage of two other figures."""

    key: str
    label: str
    facts: Any = None
    value: float | None = None
    ratio: tuple[str, str] | None = None
    unit: str = "lượt"
    order: int = 50
    # Rows count as a learner's activity ("active in the last 7/30 days").
    activity: bool = False
    # False when the rows carry no course: the course filter does not apply to them.
    by_course: bool = True


@dataclass(frozen=True)
class DimensionMember:
    id: int
    slug: str
    label: str


@dataclass(frozen=True)
class StatsDimension:
    """Labels of ids that figures use, e.g. name="course": course ids with their titles."""

    name: str
    members: tuple[DimensionMember, ...]
