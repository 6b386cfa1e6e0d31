"""Counting figures fast: past days pre-aggregated, only today counted from the facts.

Every fact (a lesson completed, a quiz submitted, …) is stamped with the moment it
happened and never moves, so a day that is over never changes. Once over, each day is
summed per figure, village, audience and course (stats_day_village; per commune in
stats_day_commune), per week and commune (stats_week_commune, with running totals in
stats_week_total so any run of whole weeks costs two small reads), and who was active
that day (stats_active_day, stats_active_user) for distinct counts. Only the days not
summed yet — normally just today — are counted from the plugins' own tables. A
learner's commune, village and audience are taken as they were when the day was summed.
"""

import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    any_,
    case,
    cast,
    delete,
    distinct,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy import DateTime as SQLDateTime
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from lms.core.models import User
from lms.db import insert_ignore, read_session, utcnow, write_session
from lms.plugin_host import flatten
from lms.plugins.stats.models import (
    ActiveDay,
    ActiveUser,
    DayCommune,
    DayVillage,
    OptedOut,
    SummaryState,
    VillageTotal,
    WeekCommune,
    WeekTotal,
)
from lms.stats_scope import Figure, StatsDimension, StatsPeriod, StatsScope, local_midnight, local_today

# A transaction stamped just before midnight may commit just after it: a day is
# summed only an hour after it ended.
GRACE = timedelta(hours=1)
USERS = User.__table__
OPTED_OUT = OptedOut.__table__
DAY = timedelta(days=1)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def first_open_day(now: datetime | None = None) -> date:
    """The local day an hour ago: every day before it is over."""
    return local_today((now or utcnow()) - GRACE)


def _as_date(value: Any) -> date:
    # SQLite gives "YYYY-MM-DD" text, PostgreSQL a date.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    return date.fromisoformat(str(value)[:10])


def _day_of(column: Any, dialect: str) -> Any:
    """The local date of a UTC timestamp, in SQL (Vietnam keeps UTC+7 all year)."""
    if dialect == "postgresql":
        return cast(func.timezone("Asia/Ho_Chi_Minh", column), Date)
    return func.date(column, "+7 hours", type_=Date)


def _monday_of(day_column: Any, dialect: str) -> Any:
    if dialect == "postgresql":
        return cast(func.date_trunc("week", cast(day_column, SQLDateTime())), Date)
    return func.date(day_column, "weekday 0", "-6 days", type_=Date)


# --- The figures of all plugins ----------------------------------------------------------


def learners_figure() -> Figure:
    """People with an account and an audience group (an account merged into another is the
    same person, counted there): the core's own figure.

    "Not merged" is written so that no index can serve it: SQLite, without statistics,
    would read every account through the index on merged_into_id (nearly all NULL)
    instead of today's sign-ups through the index on created_at."""
    return Figure("learners.registered", "Người học đăng ký mới", order=10, unit="người", by_course=False,
                  facts=select(User.created_at.label("at"), User.id.label("user_id"),
                               cast(null(), Integer).label("course_id")).where(
                      User.audience.is_not(None), func.coalesce(User.merged_into_id, 0) == 0))


@dataclass
class Contributions:
    figures: list[Any]
    dimensions: dict[str, StatsDimension]

    @property
    def facts(self) -> list[Any]:
        return [f for f in self.figures if getattr(f, "facts", None) is not None]

    def by_key(self) -> dict[str, Any]:
        return {f.key: f for f in self.figures}


def contributions(pm: Any, scope: StatsScope, period: StatsPeriod) -> Contributions:
    results = flatten(pm.hook.stats_figures(scope=scope, period=period))
    dimensions = {d.name: d for d in results if isinstance(d, StatsDimension)}
    figures = [learners_figure()] + [r for r in results if not isinstance(r, StatsDimension)
                                     and hasattr(r, "key") and hasattr(r, "label")]
    figures.sort(key=lambda f: (getattr(f, "order", 50), f.key))
    return Contributions(figures, dimensions)


# --- Summing the days that are over -------------------------------------------------------


@dataclass(frozen=True)
class Reach:
    """How far the summary tables reach: every day before `days_until` (see SummaryState)."""

    days_until: date | None = None
    # When the summary tables were last written: what they hold is the same until it moves.
    built_at: Any = field(default=None, compare=False)


def reach(db: Session) -> Reach:
    row = db.exec(select(SummaryState.days_until, SummaryState.built_at).where(SummaryState.id == 1)).first()
    if row is None or row[0] is None:
        return Reach(None, row[1] if row else None)
    return Reach(_as_date(row[0]), row[1])


class SummedRows:
    """Rows read from the summary tables, kept in the worker: they change only when refresh or
    recount writes them, which moves SummaryState.built_at, so the same read (same statement,
    same parameters, same built_at) is answered from memory until then. Holds at most
    `max_rows` rows; the least recently used reads go first. Only reads of at most
    `max_entry` rows are kept: the costly ones are small aggregates (distinct active
    learners, weekly series, a commune's villages), and a province's per-commune rows
    (tens of thousands, quick to read) would only push them out."""

    def __init__(self, max_rows: int = 30_000, max_entry: int = 5_000) -> None:
        self.max_rows, self.max_entry = max_rows, max_entry
        self.entries: OrderedDict[Any, list[tuple]] = OrderedDict()
        self.rows = 0
        self.lock = threading.Lock()

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.rows = 0

    def read(self, db: Session, statement: Any, known: Reach | None) -> list[tuple]:
        if known is None or known.built_at is None:
            return [tuple(row) for row in db.execute(statement).all()]
        compiled = statement.compile(dialect=db.get_bind().dialect)
        params = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in compiled.params.items()))
        key = (known.days_until, str(known.built_at), str(compiled), params)
        with self.lock:
            found = self.entries.get(key)
            if found is not None:
                self.entries.move_to_end(key)
                return found
        rows = [tuple(row) for row in db.execute(statement).all()]
        if len(rows) <= self.max_entry:
            with self.lock:
                if key not in self.entries:
                    self.entries[key] = rows
                    self.rows += len(rows)
                while self.rows > self.max_rows and self.entries:
                    _, dropped = self.entries.popitem(last=False)
                    self.rows -= len(dropped)
        return rows


SUMMED = SummedRows()


def refresh(engine: Any, pm: Any, *, rebuild: bool = False, now: datetime | None = None) -> Reach:
    """Sum every day that is over and not summed yet (every day with `rebuild`), and the
    weeks they belong to. Cheap when there is nothing to do: a read or two, no lock, no
    write (not even the state row while no fact is older than today).

    Runs in the background job (see job.py) and in commands, never in a user's request."""
    today = first_open_day(now)
    if not rebuild:
        with read_session(engine) as db:
            current = reach(db)
            if current.days_until and current.days_until >= today:
                return current
            if current.days_until is None:
                found = contributions(pm, StatsScope(db), StatsPeriod(None, today))
                first = _first_day(db, found.facts)
                if first is None or first >= today:
                    return current
    with write_session(engine) as db:
        insert_ignore(db, SummaryState, {"id": 1, "built_at": utcnow()}, ["id"])
        # PostgreSQL: one worker sums at a time. SQLite: the write transaction already serialises.
        state = db.exec(select(SummaryState).where(SummaryState.id == 1).with_for_update()).scalars().one()
        if rebuild:
            for table in (DayVillage, DayCommune, VillageTotal, WeekCommune, WeekTotal, ActiveDay, ActiveUser):
                db.execute(delete(table))
            state.days_until = None
        days_from = _as_date(state.days_until) if state.days_until else None
        if days_from is None or days_from < today:
            found = contributions(pm, StatsScope(db), StatsPeriod(None, today))
            days_from = days_from or _first_day(db, found.facts) or today
            if days_from < today:
                _sum_days(db, found.facts, days_from, today)
                _sum_weeks(db, week_start(days_from), today)
            state.days_until = max(days_from, today)
            state.built_at = utcnow()
            db.add(state)
        return Reach(_as_date(state.days_until), state.built_at)


def days_of_people(db: Session, pm: Any, user_ids: list[int]) -> list[date]:
    """The summed days on which these people have facts: the days a change to them touches."""
    known = reach(db)
    if known.days_until is None:
        return []
    found = contributions(pm, StatsScope(db), StatsPeriod(None, known.days_until))
    dialect = db.get_bind().dialect.name
    days: set[date] = set()
    for figure in found.facts:
        facts = figure.facts.subquery()
        query = select(_day_of(facts.c.at, dialect)).distinct().where(
            facts.c.user_id.in_(user_ids), facts.c.at < local_midnight(known.days_until))
        days.update(_as_date(d) for d in db.exec(query).scalars().all() if d is not None)
    return sorted(days)


def recount(engine: Any, pm: Any, *, days: list[date], user_ids: list[int]) -> int:
    """Sum these summed days again from the live tables (after staff merged two accounts, the
    facts of those days now belong to one person), and the weeks and totals they are part of.
    Returns how many days were summed again."""
    with write_session(engine) as db:
        insert_ignore(db, SummaryState, {"id": 1, "built_at": utcnow()}, ["id"])
        state = db.exec(select(SummaryState).where(SummaryState.id == 1).with_for_update()).scalars().one()
        limit = _as_date(state.days_until) if state.days_until else None
        days = sorted({d for d in days if limit and d < limit})
        if not days:
            return 0
        dialect = db.get_bind().dialect.name
        found = contributions(pm, StatsScope(db), StatsPeriod(None, limit))
        # The running totals per village hold these days: take them out before summing again.
        kept, totals = DayVillage.__table__.c, VillageTotal.__table__.c
        same = [kept.day.in_(days), kept.commune_id == totals.commune_id, kept.key == totals.key,
                kept.village_id == totals.village_id, kept.audience == totals.audience,
                kept.course_id == totals.course_id]
        summed = select(func.coalesce(func.sum(kept.value), 0)).where(*same).scalar_subquery()
        db.execute(VillageTotal.__table__.update().where(select(kept.day).where(*same).exists())
                   .values(value=totals.value - summed))
        for day in days:
            _sum_days(db, found.facts, day, day + DAY)
        db.execute(delete(ActiveUser).where(ActiveUser.user_id.in_(user_ids)))
        _last_active(db, dialect, None, None, user_ids)
        weeks = sorted({week_start(d) for d in days})
        for week in weeks:
            _sum_weeks(db, week, min(week + 7 * DAY, limit), totals=False)
        _sum_totals(db, weeks[0], limit)
        state.built_at = utcnow()
        db.add(state)
        return len(days)


def _first_day(db: Session, figures: list[Any]) -> date | None:
    firsts = []
    for figure in figures:
        facts = figure.facts.subquery()
        first = db.exec(select(func.min(facts.c.at))).scalar()
        if first is not None:
            firsts.append(first if isinstance(first, datetime) else datetime.fromisoformat(str(first)))
    return local_today(min(firsts)) if firsts else None


def _insert(dialect: str, model: Any) -> Any:
    return (postgresql if dialect == "postgresql" else sqlite).insert(model.__table__)


def _sum_days(db: Session, figures: list[Any], start: date, end: date) -> None:
    """INSERT … SELECT, one statement per figure: the rows never travel through Python."""
    dialect = db.get_bind().dialect.name
    lower, upper = local_midnight(start), local_midnight(end)
    for table in (DayVillage, DayCommune, ActiveDay):
        db.execute(delete(table).where(table.day >= start, table.day < end))
    for figure in figures:
        facts = figure.facts.subquery()
        joined = facts.join(USERS, USERS.c.id == facts.c.user_id).outerjoin(
            OPTED_OUT, OPTED_OUT.c.user_id == facts.c.user_id)
        day = _day_of(facts.c.at, dialect)
        person = [func.coalesce(USERS.c.commune_id, 0), func.coalesce(USERS.c.village_id, 0),
                  func.coalesce(USERS.c.audience, "")]
        course = func.coalesce(facts.c.course_id, 0)
        in_range = [facts.c.at >= lower, facts.c.at < upper, OPTED_OUT.c.user_id.is_(None)]
        query = (select(day, literal(figure.key), *person, course, func.count()).select_from(joined)
                 .where(*in_range).group_by(day, *person, course))
        db.execute(_insert(dialect, DayVillage).from_select(
            ["day", "key", "commune_id", "village_id", "audience", "course_id", "value"], query))
        if getattr(figure, "activity", False):
            people = (select(day, facts.c.user_id, course, *person).select_from(joined).where(*in_range)
                      .group_by(day, facts.c.user_id, course, *person))
            db.execute(_insert(dialect, ActiveDay).from_select(
                ["day", "user_id", "course_id", "commune_id", "village_id", "audience"], people)
                .on_conflict_do_nothing())
    villages = DayVillage.__table__.c
    group = [villages.day, villages.key, villages.commune_id, villages.audience, villages.course_id]
    db.execute(_insert(dialect, DayCommune).from_select(
        ["day", "key", "commune_id", "audience", "course_id", "value"],
        select(*group, func.sum(villages.value)).where(villages.day >= start, villages.day < end)
        .group_by(*group)))
    # These days are new to the running totals (refresh sums each day once): add them.
    group = [villages.commune_id, villages.key, villages.village_id, villages.audience, villages.course_id]
    insert = _insert(dialect, VillageTotal).from_select(
        ["commune_id", "key", "village_id", "audience", "course_id", "value"],
        select(*group, func.sum(villages.value)).where(villages.day >= start, villages.day < end)
        .group_by(*group))
    db.execute(insert.on_conflict_do_update(
        index_elements=["commune_id", "key", "village_id", "audience", "course_id"],
        set_={"value": VillageTotal.__table__.c.value + insert.excluded.value}))
    _last_active(db, dialect, start, end)


def _last_active(db: Session, dialect: str, start: date | None, end: date | None,
                 user_ids: list[int] | None = None) -> None:
    days = ActiveDay.__table__.c
    person = [days.commune_id, days.village_id, days.audience]
    latest = select(days.user_id, func.max(days.day), *person).group_by(days.user_id, *person)
    if start is not None:
        latest = latest.where(days.day >= start, days.day < end)
    if user_ids is not None:
        latest = latest.where(days.user_id.in_(user_ids))
    insert = _insert(dialect, ActiveUser).from_select(
        ["user_id", "last_day", "commune_id", "village_id", "audience"], latest)
    later = (func.greatest if dialect == "postgresql" else func.max)(insert.excluded.last_day,
                                                                      ActiveUser.__table__.c.last_day)
    db.execute(insert.on_conflict_do_update(index_elements=["user_id"], set_={
        "last_day": later, "commune_id": insert.excluded.commune_id,
        "village_id": insert.excluded.village_id, "audience": insert.excluded.audience}))


def _sum_weeks(db: Session, start: date, end: date, *, totals: bool = True) -> None:
    """Weeks from `start` (a Monday) summed again from their days before `end`; the last one
    may be partial, and is summed again when its next days are. `totals=False` leaves the
    running totals for the caller to redo once."""
    dialect = db.get_bind().dialect.name
    days = DayCommune.__table__.c
    week = _monday_of(days.day, dialect)
    db.execute(delete(WeekCommune).where(WeekCommune.week >= start, WeekCommune.week < end))
    query = (select(week, days.key, days.commune_id, days.audience, days.course_id, func.sum(days.value))
             .where(days.day >= start, days.day < end)
             .group_by(week, days.key, days.commune_id, days.audience, days.course_id))
    db.execute(_insert(dialect, WeekCommune).from_select(
        ["week", "key", "commune_id", "audience", "course_id", "value"], query))
    if totals:
        _sum_totals(db, start, end)


def _sum_totals(db: Session, start: date, end: date) -> None:
    """Running totals from week `start` on, each week from the one before: a week at a time."""
    dialect = db.get_bind().dialect.name
    db.execute(delete(WeekTotal).where(WeekTotal.week >= start))
    columns = ["week", "key", "commune_id", "audience", "course_id", "value"]
    totals, weeks = WeekTotal.__table__.c, WeekCommune.__table__.c
    week = start
    while week < end:
        before = select(totals.key, totals.commune_id, totals.audience, totals.course_id, totals.value) \
            .where(totals.week == week - 7 * DAY)
        this = select(weeks.key, weeks.commune_id, weeks.audience, weeks.course_id, weeks.value) \
            .where(weeks.week == week)
        both = union_all(before, this).subquery()
        group = [both.c.key, both.c.commune_id, both.c.audience, both.c.course_id]
        db.execute(_insert(dialect, WeekTotal).from_select(columns, select(
            literal(week, Date), *group, func.sum(both.c.value)).group_by(*group)))
        week += 7 * DAY


# --- Counting for a view ---------------------------------------------------------------------

# The finest grouping a view needs: (place, audience, course). "place" is a village when
# the view is one commune (or one village), a commune for a city-wide view.
Member = tuple[int, str, int]
DIM_INDEX = {"place": 0, "audience": 1, "course": 2}


@dataclass
class Counts:
    place_level: str
    members: dict[str, dict[Member, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    weeks: dict[str, dict[date, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    _sums: dict[tuple, dict[Any, int]] = field(default_factory=dict)
    known: Reach | None = None  # what the summary tables held when the view began

    def total(self, key: str) -> int:
        return sum(self.members.get(key, {}).values())

    def by(self, key: str, *dims: str) -> dict[Any, int]:
        """Sums per member of one dimension ("audience") or a tuple of them (computed once)."""
        cached = self._sums.get((key, dims))
        if cached is not None:
            return cached
        out: dict[Any, int] = defaultdict(int)
        table = self.members.get(key, {})
        if len(dims) == 1:
            position = DIM_INDEX[dims[0]]
            for member, n in table.items():
                out[member[position]] += n
        else:
            positions = [DIM_INDEX[d] for d in dims]
            for member, n in table.items():
                out[tuple(member[p] for p in positions)] += n
        self._sums[(key, dims)] = dict(out)
        return self._sums[(key, dims)]

    def within(self, key: str, dim: str, members: set[Any]) -> int:
        table = self.by(key, dim)
        return sum(table.get(member, 0) for member in members)

    def by_week(self, key: str) -> dict[date, int]:
        return dict(self.weeks.get(key, {}))


def place_level(scope: StatsScope) -> str:
    one_commune = scope.commune_ids is not None and len(scope.commune_ids) == 1
    return "village" if one_commune or scope.village_id else "commune"


def segments(level: str, lower: date | None, upper: date, known: Reach) -> list[tuple[str, date | None, date]]:
    """Split the days [lower, upper) by where their counts are: running totals, weeks table,
    days table, facts.

    The weeks table holds whole weeks before the summed reach and, for the week it falls in,
    the days summed so far: that row is usable when the period runs to the reach or beyond.
    Likewise the villages' running totals, for a period from the beginning to the reach."""
    if known.days_until is None:
        return [("facts", lower, upper)]
    out: list[tuple[str, date | None, date]] = []
    reach_day = known.days_until
    summed = min(upper, reach_day)
    if lower is None or lower < summed:
        if level == "commune":
            weeks_lo = week_start(lower + 6 * DAY) if lower else None
            if summed < reach_day:
                weeks_hi = week_start(summed)
            else:
                weeks_hi = reach_day if week_start(reach_day) == reach_day else week_start(reach_day) + 7 * DAY
            if weeks_lo is None or weeks_lo < weeks_hi:
                if lower is not None and lower < weeks_lo:
                    out.append(("days", lower, weeks_lo))
                out.append(("weeks", weeks_lo, weeks_hi))
                if weeks_hi < summed:
                    out.append(("days", weeks_hi, summed))
            else:
                out.append(("days", lower, summed))
        elif lower is None and summed == reach_day:
            out.append(("totals", None, summed))
        else:
            out.append(("days", lower, summed))
    facts_from = summed if lower is None else max(lower, summed)
    if facts_from < upper:
        out.append(("facts", facts_from, upper))
    return out


def count(db: Session, figures: list[Any], scope: StatsScope, period: StatsPeriod, *, known: Reach,
          weeks_from: date | None = None, weekly: bool = True, live: "Live | None" = None) -> Counts:
    """Occurrences of each fact figure in the scope and period, per (place, audience, course)
    and, with `weekly`, per week (from the week of `weeks_from` on, when given)."""
    counts = Counts(place_level(scope), known=known)
    live = live or Live()
    for source, start, end in segments(counts.place_level, period.start, period.end + DAY, known):
        # The weekly series needs only the weeks it shows.
        series = weekly and (weeks_from is None or end > weeks_from)
        if source == "facts":
            _from_facts(db, figures, scope, start, end, counts, series, weeks_from, live)
        else:
            reader = {"weeks": _from_weeks, "days": _from_days, "totals": _from_totals}[source]
            reader(db, figures, scope, start, end, counts, series, weeks_from)
    return counts


def _later(first: date | None, second: date | None) -> date | None:
    return max(first, second) if first and second else first or second


def _course_filter(key_column: Any, course_column: Any, figures: list[Any], course_id: int) -> Any:
    # Figures without a course (registrations, events) are not narrowed by the course filter.
    courseless = [f.key for f in figures if not getattr(f, "by_course", True)]
    if not courseless:
        return course_column == course_id
    return or_(key_column.in_(courseless), course_column == course_id)


def _summary_filters(table: Any, figures: list[Any], scope: StatsScope, day_column: Any,
                     start: date | None, end: date, *, keys: bool = True) -> list[Any]:
    where = [day_column < end] if day_column is not None else []
    if keys:
        where.append(table.key.in_([f.key for f in figures]))
    if start is not None:
        where.append(day_column >= start)
    if scope.commune_ids is not None:
        where.append(table.commune_id.in_(scope.commune_ids))
    if scope.village_id and hasattr(table, "village_id"):
        where.append(table.village_id == scope.village_id)
    if scope.audience:
        where.append(table.audience == scope.audience)
    if scope.course_id:
        where.append(_course_filter(table.key, table.course_id, figures, scope.course_id))
    return where


def _from_weeks(db: Session, figures: list[Any], scope: StatsScope, start: date | None, end: date,
                counts: Counts, series: bool, series_from: date | None) -> None:
    """Whole weeks [start, end): running total at the last week minus the one before the first."""
    totals = WeekTotal.__table__.c
    group = [totals.key, totals.commune_id, totals.audience, totals.course_id]
    for sign, week in ((1, end - 7 * DAY), (-1, start - 7 * DAY if start else None)):
        if week is None:
            continue
        where = _summary_filters(totals, figures, scope, totals.week, week, week + DAY)
        for key, place, audience, course, n in SUMMED.read(db, select(*group, totals.value).where(*where),
                                                           counts.known):
            counts.members[key][(int(place), audience, int(course))] += sign * int(n)
    if series:
        table = WeekCommune.__table__.c
        # Without the figure filter SQLite walks the primary key (week, key, …) in order: no sorting.
        wanted = {f.key for f in figures}
        unfiltered = _summary_filters(table, figures, scope, table.week, _later(start, series_from), end,
                                      keys=False)
        for week, key, n in SUMMED.read(db, select(table.week, table.key, func.sum(table.value))
                                        .where(*unfiltered).group_by(table.week, table.key), counts.known):
            if key in wanted:
                counts.weeks[key][_as_date(week)] += int(n)


def _from_totals(db: Session, figures: list[Any], scope: StatsScope, start: date | None, end: date,
                 counts: Counts, series: bool, series_from: date | None) -> None:
    """Everything before the reach, in one commune (or village): the villages' running totals,
    and the weekly series from the communes' weeks (from the villages' days for one village)."""
    totals = VillageTotal.__table__.c
    where = _summary_filters(totals, figures, scope, None, None, end)
    for key, village, audience, course, value in SUMMED.read(db, select(
            totals.key, totals.village_id, totals.audience, totals.course_id, totals.value).where(*where),
            counts.known):
        counts.members[key][(int(village), audience, int(course))] += int(value)
    if not series:
        return
    if scope.village_id:
        _from_days(db, figures, scope, series_from, end, counts, series, series_from, members=False)
        return
    weeks = WeekCommune.__table__.c
    shown = _summary_filters(weeks, figures, scope, weeks.week, week_start(series_from) if series_from else None,
                             end)
    for week, key, n in SUMMED.read(db, select(weeks.week, weeks.key, func.sum(weeks.value))
                                    .where(*shown).group_by(weeks.week, weeks.key), counts.known):
        counts.weeks[key][_as_date(week)] += int(n)


def _from_days(db: Session, figures: list[Any], scope: StatsScope, start: date | None, end: date,
               counts: Counts, series: bool, series_from: date | None, *, members: bool = True) -> None:
    table = (DayVillage if counts.place_level == "village" else DayCommune).__table__.c
    place = table.village_id if counts.place_level == "village" else table.commune_id
    where = _summary_filters(table, figures, scope, table.day, start, end)
    group = [table.key, place, table.audience, table.course_id]
    for key, place_id, audience, course, n in SUMMED.read(
            db, select(*group, func.sum(table.value)).where(*where).group_by(*group),
            counts.known) if members else ():
        counts.members[key][(int(place_id), audience, int(course))] += int(n)
    if series:
        shown = _summary_filters(table, figures, scope, table.day, _later(start, series_from), end)
        for day, key, n in SUMMED.read(db, select(table.day, table.key, func.sum(table.value))
                                       .where(*shown).group_by(table.day, table.key), counts.known):
            counts.weeks[key][week_start(_as_date(day))] += int(n)


@dataclass(frozen=True)
class Person:
    commune_id: int
    village_id: int
    audience: str

    def within(self, scope: StatsScope) -> bool:
        return ((scope.commune_ids is None or self.commune_id in scope.commune_ids)
                and (not scope.village_id or self.village_id == scope.village_id)
                and (not scope.audience or self.audience == scope.audience))

    def place(self, level: str) -> int:
        return self.village_id if level == "village" else self.commune_id


def _with_ids(db: Session, column: Any, ids: set[int]) -> list[Any]:
    """Conditions "column is one of ids": one array parameter on PostgreSQL, lists of a few
    hundred on SQLite (which limits the parameters of a statement)."""
    ordered = sorted(ids)
    if db.get_bind().dialect.name == "postgresql":
        return [column == any_(literal(ordered, postgresql.ARRAY(Integer)))] if ordered else []
    return [column.in_(ordered[i:i + 500]) for i in range(0, len(ordered), 500)]


def _people(db: Session, user_ids: set[int]) -> dict[int, Person]:
    """Commune, village and audience of these learners, by primary key."""
    found = {}
    for condition in _with_ids(db, USERS.c.id, user_ids):
        for user_id, commune, village, audience in db.execute(
                select(USERS.c.id, USERS.c.commune_id, USERS.c.village_id, USERS.c.audience)
                .outerjoin(OPTED_OUT, OPTED_OUT.c.user_id == USERS.c.id)
                .where(condition, OPTED_OUT.c.user_id.is_(None))).all():
            found[user_id] = Person(commune or 0, village or 0, audience or "")
    return found


@dataclass
class Live:
    """The facts of the days not summed yet and their learners, read once per view and shared
    by its counts (figures per breakdown, learners up to the end, active learners)."""

    rows: dict[tuple, list[Any]] = field(default_factory=dict)
    people: dict[int, Person] = field(default_factory=dict)

    def facts(self, db: Session, figure: Any, scope: StatsScope, start: date | None, end: date) -> list[Any]:
        key = (figure.key, start, end)
        if key not in self.rows:
            self.rows[key] = _live(db, figure, start, end)
        if scope.course_id and getattr(figure, "by_course", True):
            return [row for row in self.rows[key] if row[2] == scope.course_id]
        return self.rows[key]

    def persons(self, db: Session, user_ids: set[int]) -> dict[int, Person]:
        missing = user_ids - self.people.keys()
        if missing:
            self.people.update(_people(db, missing))
        return self.people


def _live(db: Session, figure: Any, start: date | None, end: date) -> list[Any]:
    """(day, user_id, course_id, occurrences) of one figure's facts in [start, end).

    Only the days not summed yet are read like this (normally today): few rows, read
    through the facts' own time index, with no join for a planner to get wrong. Filters
    are applied afterwards, in Python: a course condition here would tempt the planner
    into the course index, which holds every fact of the course."""
    dialect = db.get_bind().dialect.name
    facts = figure.facts.subquery()
    group = [_day_of(facts.c.at, dialect), facts.c.user_id, func.coalesce(facts.c.course_id, 0)]
    where = [facts.c.at < local_midnight(end)]
    if start is not None:
        where.append(facts.c.at >= local_midnight(start))
    return db.execute(select(*group, func.count()).where(*where).group_by(*group)).all()


def _from_facts(db: Session, figures: list[Any], scope: StatsScope, start: date | None, end: date,
                counts: Counts, series: bool, series_from: date | None, live: Live) -> None:
    rows = {figure.key: live.facts(db, figure, scope, start, end) for figure in figures}
    people = live.persons(db, {row[1] for found in rows.values() for row in found})
    for key, found in rows.items():
        for day, user_id, course_id, n in found:
            person = people.get(user_id)
            if person is None or not person.within(scope):
                continue
            counts.members[key][(person.place(counts.place_level), person.audience, int(course_id))] += int(n)
            day = _as_date(day)
            if series and (series_from is None or day >= series_from):
                counts.weeks[key][week_start(day)] += int(n)


# --- Active learners: distinct people, not sums ------------------------------------------


@dataclass
class Active:
    """Distinct people active in the 7 and 30 days up to the period's end, per (audience, place).

    Each person has one audience and one place, so these add up to any coarser breakdown."""

    week: dict[tuple[str, int], int] = field(default_factory=dict)
    month: dict[tuple[str, int], int] = field(default_factory=dict)

    @staticmethod
    def total(table: dict[tuple[str, int], int], *, audiences: set[str] | None = None,
              places: set[int] | None = None) -> int:
        return sum(n for (a, p), n in table.items()
                   if (audiences is None or a in audiences) and (places is None or p in places))


def active(db: Session, figures: list[Any], scope: StatsScope, period: StatsPeriod, *, known: Reach,
           live: Live | None = None) -> Active:
    upper = period.end + DAY
    live = live or Live()
    if known.days_until and upper >= known.days_until and not scope.course_id:
        return _active_up_to_now(db, figures, scope, upper, known, live)
    return _active_over_days(db, figures, scope, period, known=known, live=live)


def _live_activity(db: Session, figures: list[Any], scope: StatsScope, start: date,
                   end: date, live: Live) -> dict[int, tuple[Person, date]]:
    """Learners in scope active in [start, end) by the facts, with their last active day."""
    last: dict[int, date] = {}
    for figure in figures:
        if not getattr(figure, "activity", False) or (scope.course_id and not getattr(figure, "by_course", True)):
            continue
        for day, user_id, _course, _n in live.facts(db, figure, scope, start, end):
            day = _as_date(day)
            if user_id not in last or last[user_id] < day:
                last[user_id] = day
    people = live.persons(db, set(last))
    return {user_id: (people[user_id], day) for user_id, day in last.items()
            if user_id in people and people[user_id].within(scope)}


def _active_up_to_now(db: Session, figures: list[Any], scope: StatsScope, upper: date,
                      known: Reach, live: Live) -> Active:
    """A window ending today: people whose last summed active day falls in it, plus those
    active only since (counted from the facts, minus those already counted)."""
    summed = known.days_until
    level = place_level(scope)
    month_ago, week_ago = upper - 30 * DAY, upper - 7 * DAY
    last = ActiveUser.__table__.c
    place = last.village_id if level == "village" else last.commune_id
    where = [last.last_day >= month_ago, last.last_day < summed]
    if scope.commune_ids is not None:
        where.append(last.commune_id.in_(scope.commune_ids))
    if scope.village_id:
        where.append(last.village_id == scope.village_id)
    if scope.audience:
        where.append(last.audience == scope.audience)
    result = Active()
    recent = func.sum(case((last.last_day >= week_ago, 1), else_=0))
    for audience, place_id, thirty, seven in SUMMED.read(
            db, select(last.audience, place, func.count(), recent).where(*where).group_by(last.audience, place),
            known):
        result.month[(audience, int(place_id))] = int(thirty)
        result.week[(audience, int(place_id))] = int(seven or 0)
    recent_people = _live_activity(db, figures, scope, max(month_ago, summed), upper, live)
    before: dict[int, date] = {}
    for condition in _with_ids(db, last.user_id, set(recent_people)):
        for user_id, day in db.execute(select(last.user_id, last.last_day).where(condition)).all():
            before[user_id] = _as_date(day)
    for user_id, (person, day) in recent_people.items():
        member = (person.audience, person.place(level))
        earlier = before.get(user_id)
        # Already counted above when their last summed day is inside the window.
        if earlier is None or earlier < month_ago:
            result.month[member] = result.month.get(member, 0) + 1
        if day >= week_ago and (earlier is None or earlier < week_ago):
            result.week[member] = result.week.get(member, 0) + 1
    return result


def _active_over_days(db: Session, figures: list[Any], scope: StatsScope, period: StatsPeriod, *,
                      known: Reach, live: Live) -> Active:
    """Any other window (one ending in the past, or one course): each person's last active
    day in it, from the days summed and the facts of the days that are not."""
    level = place_level(scope)
    upper = period.end + DAY
    month_ago, week_ago = upper - 30 * DAY, upper - 7 * DAY
    summed = min(upper, known.days_until) if known.days_until else month_ago
    latest: dict[int, tuple[str, int, date]] = {}
    result = Active()
    days = ActiveDay.__table__.c
    where = [days.day >= month_ago, days.day < summed]
    if scope.commune_ids is not None:
        where.append(days.commune_id.in_(scope.commune_ids))
    if scope.village_id:
        where.append(days.village_id == scope.village_id)
    if scope.audience:
        where.append(days.audience == scope.audience)
    if scope.course_id:
        where.append(days.course_id == scope.course_id)
    place = days.village_id if level == "village" else days.commune_id
    if summed >= upper:
        # All summed already (a window in the past): distinct counts in SQL, a few rows back.
        recent = func.count(distinct(case((days.day >= week_ago, days.user_id))))
        for audience, place_id, seven, thirty in SUMMED.read(
                db, select(days.audience, place, recent, func.count(distinct(days.user_id))).where(*where)
                .group_by(days.audience, place), known):
            result.week[(audience, int(place_id))] = int(seven)
            result.month[(audience, int(place_id))] = int(thirty)
        return result
    if month_ago < summed:
        for user_id, audience, place_id, day in db.execute(
                select(days.user_id, days.audience, place, func.max(days.day)).where(*where)
                .group_by(days.user_id, days.audience, place)).all():
            latest[user_id] = (audience, int(place_id), _as_date(day))
    for user_id, (person, day) in _live_activity(db, figures, scope, max(month_ago, summed), upper, live).items():
        if user_id not in latest or latest[user_id][2] < day:
            latest[user_id] = (person.audience, person.place(level), day)
    for audience, place_id, day in latest.values():
        member = (audience, place_id)
        result.month[member] = result.month.get(member, 0) + 1
        if day >= week_ago:
            result.week[member] = result.week.get(member, 0) + 1
    return result
