"""Pre-aggregated figures per day and week, active learners per day, targets, and API tokens."""

from datetime import date, datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from lms.db import utcnow

# In the summary tables 0 and "" stand for "none" (no village, no course, no audience):
# they are part of the primary key, where NULL would not be. On SQLite the tables are
# WITHOUT ROWID, so a scan of the primary key or an index reads no other page.
CLUSTERED = {"sqlite_with_rowid": False}


class DayVillage(SQLModel, table=True):
    """Occurrences of each figure per local day, village, audience and course."""

    __tablename__ = "stats_day_village"
    __table_args__ = (
        # A commune's view reads only its own rows from an index alone: per day for the weekly
        # series, per figure and member (already in grouping order: no sorting) for the rest.
        Index("ix_stats_day_village_commune", "commune_id", "day", "key", "village_id", "audience",
              "course_id", "value"),
        Index("ix_stats_day_village_members", "commune_id", "key", "village_id", "audience", "course_id",
              "day", "value"),
        CLUSTERED,
    )

    day: date = Field(primary_key=True)
    key: str = Field(primary_key=True, max_length=40)
    commune_id: int = Field(primary_key=True, default=0)
    village_id: int = Field(primary_key=True, default=0)
    audience: str = Field(primary_key=True, max_length=16, default="")
    course_id: int = Field(primary_key=True, default=0)
    value: int = Field(default=0)


class DayCommune(SQLModel, table=True):
    """The same summed over villages: the part-weeks a city-wide view reads (fewer rows)."""

    __tablename__ = "stats_day_commune"
    __table_args__ = (CLUSTERED,)

    day: date = Field(primary_key=True)
    key: str = Field(primary_key=True, max_length=40)
    commune_id: int = Field(primary_key=True, default=0)
    audience: str = Field(primary_key=True, max_length=16, default="")
    course_id: int = Field(primary_key=True, default=0)
    value: int = Field(default=0)


class VillageTotal(SQLModel, table=True):
    """Everything summed so far, per village: a commune's "since the beginning" view (the
    default one) reads its few hundred rows instead of every day."""

    __tablename__ = "stats_village_total"
    __table_args__ = (CLUSTERED,)

    commune_id: int = Field(primary_key=True, default=0)
    key: str = Field(primary_key=True, max_length=40)
    village_id: int = Field(primary_key=True, default=0)
    audience: str = Field(primary_key=True, max_length=16, default="")
    course_id: int = Field(primary_key=True, default=0)
    value: int = Field(default=0)


class WeekCommune(SQLModel, table=True):
    """The same per local week (from Monday) and commune: weekly series."""

    __tablename__ = "stats_week_commune"
    __table_args__ = (
        # One commune's weekly series without reading the other communes' weeks.
        Index("ix_stats_week_commune_commune", "commune_id", "week", "key", "value"),
        CLUSTERED,
    )

    week: date = Field(primary_key=True)
    key: str = Field(primary_key=True, max_length=40)
    commune_id: int = Field(primary_key=True, default=0)
    audience: str = Field(primary_key=True, max_length=16, default="")
    course_id: int = Field(primary_key=True, default=0)
    value: int = Field(default=0)


class WeekTotal(SQLModel, table=True):
    """Running totals of stats_week_commune: everything up to the end of each week, so the
    sum over any run of whole weeks is two small reads (the last week minus the one before
    the first) however long the run is."""

    __tablename__ = "stats_week_total"
    __table_args__ = (CLUSTERED,)

    week: date = Field(primary_key=True)
    key: str = Field(primary_key=True, max_length=40)
    commune_id: int = Field(primary_key=True, default=0)
    audience: str = Field(primary_key=True, max_length=16, default="")
    course_id: int = Field(primary_key=True, default=0)
    value: int = Field(default=0)


class ActiveDay(SQLModel, table=True):
    """Who did something (a lesson, a quiz, an event) on a local day, for distinct counts."""

    __tablename__ = "stats_active_day"
    __table_args__ = (
        Index("ix_stats_active_day_commune", "commune_id", "day", "audience", "village_id", "user_id"),
        CLUSTERED,
    )

    day: date = Field(primary_key=True)
    user_id: int = Field(primary_key=True)
    course_id: int = Field(primary_key=True, default=0)
    commune_id: int = Field(default=0)
    village_id: int = Field(default=0)
    audience: str = Field(max_length=16, default="")


class ActiveUser(SQLModel, table=True):
    """Each person's last active day (before today): "active in the last 7/30 days" up to
    today is then a count of rows, not a distinct count over days."""

    __tablename__ = "stats_active_user"
    __table_args__ = (
        Index("ix_stats_active_user_last", "last_day", "audience", "commune_id"),
        Index("ix_stats_active_user_commune", "commune_id", "last_day", "audience", "village_id"),
        CLUSTERED,
    )

    user_id: int = Field(primary_key=True)
    last_day: date
    commune_id: int = Field(default=0)
    village_id: int = Field(default=0)
    audience: str = Field(max_length=16, default="")


class OptedOut(SQLModel, table=True):
    """People who refused or withdrew consent to statistics shared upward: counted nowhere."""

    __tablename__ = "stats_opted_out"

    user_id: int = Field(primary_key=True)
    since: datetime = Field(default_factory=utcnow)


class SummaryState(SQLModel, table=True):
    """How far the summary tables reach: every day before `days_until` is in them (the
    current week's row in stats_week_commune holds its days so far)."""

    __tablename__ = "stats_summary_state"

    id: int = Field(default=1, primary_key=True)
    days_until: date | None = Field(default=None)
    built_at: datetime = Field(default_factory=utcnow)


class Target(SQLModel, table=True):
    """A goal for one audience of a commune (commune_id 0: the whole installation).

    kind "hoan-thanh": per cent of the audience's learners who completed course_id;
    kind "dang-ky": number of learners of the audience registered."""

    __tablename__ = "stats_target"
    __table_args__ = (UniqueConstraint("commune_id", "audience", "kind", "course_id"),)

    id: int | None = Field(default=None, primary_key=True)
    commune_id: int = Field(default=0)
    audience: str = Field(max_length=16)
    kind: str = Field(max_length=16)
    course_id: int = Field(default=0)
    value: int
    set_by_id: int | None = Field(default=None, foreign_key="core_user.id")
    updated_at: datetime = Field(default_factory=utcnow)


class ApiToken(SQLModel, table=True):
    """A bearer token for the read-only JSON API. Only its digest is kept."""

    __tablename__ = "stats_api_token"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    digest: str = Field(max_length=64, unique=True)
    # None: every commune; otherwise the token sees this commune only.
    commune_id: int | None = Field(default=None, foreign_key="core_place.id")
    created_by_id: int | None = Field(default=None, foreign_key="core_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = Field(default=None)
    revoked_at: datetime | None = Field(default=None)
