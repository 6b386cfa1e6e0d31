"""Dashboard views: filters read from the URL, figures per breakdown, targets and API tokens."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select, update
from sqlmodel import Session

from lms.context import Context
from lms.core.models import Place, User
from lms.core.services import AUDIENCES
from lms.db import insert_ignore, utcnow
from lms.errors import FormErrors, NotFound
from lms.plugins.stats import summary
from lms.plugins.stats.models import ApiToken, Target
from lms.security import new_token, token_digest
from lms.stats_scope import DimensionMember, StatsPeriod, StatsScope, local_today
from lms.text import InvalidInput, clean_text

MAX_WEEKS = 26
UNKNOWN_AUDIENCE = "Chưa rõ nhóm"
TARGET_KINDS = {
    "hoan-thanh": "Tỷ lệ người học hoàn thành một khóa học (%)",
    "dang-ky": "Số người học đăng ký (người)",
}
TOKEN_PREFIX = "hvs_"  # noqa: S105 - a visible prefix, so a leaked token is recognisable
# At most one write an hour per token, like sessions' last_seen_at.
LAST_USED_EVERY = timedelta(hours=1)
OUT_OF_SCOPE = "out_of_scope"


def out_of_scope() -> NotFound:
    """Another commune's place, asked for by URL: it does not exist for this viewer."""
    return NotFound(OUT_OF_SCOPE)


# --- Filters ---------------------------------------------------------------------------------


@dataclass
class Filters:
    commune: Place | None
    village: Place | None
    audience: str | None
    course: DimensionMember | None
    start: date | None
    end: date
    communes: list[Place] = field(default_factory=list)  # what the viewer may pick from
    villages: list[Place] = field(default_factory=list)

    def params(self, **changes: Any) -> dict[str, str]:
        values = {
            "commune": str(self.commune.id) if self.commune and self.communes else "",
            "village": str(self.village.id) if self.village else "",
            "audience": self.audience or "", "course": self.course.slug if self.course else "",
            "from": self.start.isoformat() if self.start else "", "to": self.end.isoformat(),
        }
        values.update({k: v for k, v in changes.items()})
        return {k: v for k, v in values.items() if v}

    def query(self, **changes: Any) -> str:
        """The URL query of this view, for links and exports (ids and slugs, never a person)."""
        return urlencode(self.params(**changes))

    @property
    def period(self) -> StatsPeriod:
        return StatsPeriod(self.start, self.end)

    def scope(self, db: Session) -> StatsScope:
        return StatsScope(db, (self.commune.id,) if self.commune else None, self.audience,
                          self.village.id if self.village else None, self.course.id if self.course else None)


DATE_MESSAGE = "Ngày không hợp lệ. Nhập theo dạng ngày/tháng/năm, ví dụ 30/11/2026."


def parse_day(raw: str) -> date | None:
    """A date typed as 2026-11-30 (date picker) or 30/11/2026 (by hand); None when empty."""
    value = (raw or "").strip()
    if not value:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", value):
            year, month, day = (int(p) for p in value.split("-"))
        elif re.fullmatch(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{4}", value):
            day, month, year = (int(p) for p in re.split(r"[/.-]", value))
        else:
            raise ValueError(value)
        parsed = date(year, month, day)
    except ValueError as exc:
        raise InvalidInput(DATE_MESSAGE) from exc
    if not 2000 <= parsed.year <= 2100:
        raise InvalidInput("Năm phải từ 2000 đến 2100.")
    return parsed


def communes_of(db: Session) -> list[Place]:
    return list(db.exec(select(Place).where(Place.kind == "commune").order_by(Place.name)).scalars().all())


def villages_of(db: Session, commune_id: int) -> list[Place]:
    rows = db.exec(select(Place).where(Place.parent_id == commune_id, Place.kind == "village")).scalars().all()
    return sorted(rows, key=lambda p: natural_key(p.name))


def natural_key(text: str) -> list[Any]:
    """"Tổ dân phố số 2" before "số 10"."""
    return [int(part) if part.isdigit() else part.casefold() for part in re.split(r"(\d+)", text)]


def _place(db: Session, raw: str, kind: str) -> Place | None:
    # isascii: "²" is a digit to str.isdigit but not to int().
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:
        return None
    place = db.get(Place, int(raw))
    return place if place is not None and place.kind == kind else None


def parse_filters(db: Session, params: Any, *, courses: dict[str, DimensionMember],
                  commune_id: int | None, everywhere: bool,
                  today: date | None = None) -> tuple[Filters, dict[str, str]]:
    """The view asked for in the URL, and field → Vietnamese message for what cannot be read
    (then the filters hold what could be, for the form's choices). `everywhere`: the viewer
    sees every commune (an administrator, or an API token not bound to one); otherwise only
    `commune_id`.

    Raises NotFound (code OUT_OF_SCOPE) for another commune's place."""
    def get(name: str) -> str:
        return str(params.get(name) or "").strip()[:40]

    errors: dict[str, str] = {}
    commune = village = None
    if everywhere:
        if get("commune"):
            commune = _place(db, get("commune"), "commune")
            if commune is None:
                errors["commune"] = "Xã/phường không có trong danh sách."
    else:
        commune = db.get(Place, commune_id) if commune_id else None
        if get("commune") and (commune is None or get("commune") != str(commune.id)):
            raise out_of_scope()
    if get("village"):
        village = _place(db, get("village"), "village")
        if village is None:
            if not everywhere:
                raise out_of_scope()
            errors["village"] = "Thôn/tổ dân phố không có trong danh sách."
        elif commune is None and everywhere and "commune" not in errors:
            commune = db.get(Place, village.parent_id)
        elif commune is None or village.parent_id != commune.id:
            if not everywhere:
                raise out_of_scope()
            errors["village"] = "Thôn/tổ dân phố không thuộc xã/phường đã chọn."
            village = None
    audience = get("audience") or None
    if audience and audience not in AUDIENCES:
        errors["audience"] = "Nhóm đối tượng không hợp lệ."
        audience = None
    course = None
    if get("course"):
        course = courses.get(get("course"))
        if course is None:
            errors["course"] = "Khóa học không có trong danh mục."
    today = today or local_today()
    start = end = None
    for name in ("from", "to"):
        try:
            value = parse_day(get(name))
        except InvalidInput as exc:
            errors[name] = str(exc)
            continue
        if name == "from":
            start = value
        else:
            end = value
    end = end or today
    if start and start > end and "to" not in errors:
        errors["to"] = "Ngày kết thúc phải trùng hoặc sau ngày bắt đầu."
    filters = Filters(commune, village, audience, course, start, end)
    if everywhere:
        filters.communes = communes_of(db)
    if commune:
        filters.villages = villages_of(db, commune.id)
    return filters, errors


def presets(today: date) -> list[tuple[str, date | None, date]]:
    """Common report periods, as links."""
    first = today.replace(day=1)
    last_month_end = first - timedelta(days=1)
    return [("7 ngày qua", today - timedelta(days=6), today),
            ("30 ngày qua", today - timedelta(days=29), today),
            ("Tháng này", first, today),
            ("Tháng trước", last_month_end.replace(day=1), last_month_end),
            ("Năm nay", today.replace(month=1, day=1), today),
            ("Từ đầu", None, today)]


# --- The dashboard -----------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    unit: str = ""


@dataclass
class Row:
    label: str
    values: dict[str, float | None]
    id: Any = None


@dataclass
class Table:
    name: str
    title: str
    member_label: str  # heading of the first column
    columns: list[Column]
    rows: list[Row]
    total: Row | None
    chart_key: str
    chart_title: str


@dataclass
class Headline:
    key: str
    label: str
    value: float | None
    unit: str = ""
    note: str = ""


@dataclass
class TargetProgress:
    target: Target
    audience: str
    description: str
    goal: int
    achieved: float | None
    unit: str

    @property
    def percent_of_goal(self) -> int:
        """How much of the goal is reached; above 100 when it is exceeded."""
        if not self.goal or self.achieved is None:
            return 0
        return round(100 * self.achieved / self.goal)

    @property
    def reached(self) -> bool:
        return self.achieved is not None and self.achieved >= self.goal


@dataclass
class Dashboard:
    filters: Filters
    scope_name: str
    headline: list[Headline]
    tables: dict[str, Table]
    targets: list[TargetProgress]
    notes: list[str]
    generated_at: datetime

    @property
    def period_label(self) -> str:
        end = self.filters.end.strftime("%d/%m/%Y")
        if self.filters.start is None:
            return f"từ khi bắt đầu đến hết ngày {end}"
        return f"từ ngày {self.filters.start:%d/%m/%Y} đến hết ngày {end}"


def ratio(numerator: int, denominator: int) -> float | None:
    return round(100 * numerator / denominator, 1) if denominator else None


def scope_name(db: Session, filters: Filters) -> str:
    if filters.village is not None:
        return f"{filters.village.name}, {filters.commune.name}" if filters.commune else filters.village.name
    if filters.commune is not None:
        return filters.commune.name
    provinces = db.exec(select(Place.name).where(Place.kind == "province")).scalars().all()
    return provinces[0] if len(provinces) == 1 else "Tất cả xã/phường"


def build(db: Session, pm: Any, filters: Filters, *, known: summary.Reach,
          found: summary.Contributions | None = None) -> Dashboard:
    """Every figure of the view: headline, per audience, per place, per course, per week, targets."""
    scope = filters.scope(db)
    period = filters.period
    found = found or summary.contributions(pm, scope, period)
    facts = found.facts
    last_week = summary.week_start(filters.end)
    weeks_from = last_week - timedelta(weeks=MAX_WEEKS - 1)
    if filters.start:
        weeks_from = max(weeks_from, summary.week_start(filters.start))
    live = summary.Live()
    counts = summary.count(db, facts, scope, period, known=known, weeks_from=weeks_from, live=live)
    # Learners and completed courses up to the end of the period, whatever its start.
    keys = {"learners.registered", "courses.completed"}
    if filters.start is None:
        cumulative = counts
    else:
        cumulative = summary.count(db, [f for f in facts if f.key in keys], scope,
                                   StatsPeriod(None, filters.end), known=known, weekly=False, live=live)
    active = summary.active(db, facts, scope, period, known=known, live=live)
    figures = found.figures
    numerators = {f.ratio[0] for f in figures if getattr(f, "ratio", None)}
    shown = [f for f in figures if f.key not in numerators and f.key != "learners.registered"
             and (getattr(f, "facts", None) is not None or getattr(f, "ratio", None))]

    def value(figure: Any, member_counts: Any) -> float | None:
        if getattr(figure, "ratio", None):
            top, bottom = figure.ratio
            return ratio(member_counts(top), member_counts(bottom))
        return member_counts(figure.key)

    # Headline.
    learners = cumulative.total("learners.registered")
    end_label = filters.end.strftime("%d/%m/%Y")
    headline = [Headline("learners", "Người học đã đăng ký", learners, "người",
                         f"Mới trong kỳ: {counts.total('learners.registered')}" if filters.start else "")]
    headline.append(Headline("active_7", "Người học hoạt động trong 7 ngày",
                             summary.Active.total(active.week), "người", f"Tính đến hết ngày {end_label}"))
    headline.append(Headline("active_30", "Người học hoạt động trong 30 ngày",
                             summary.Active.total(active.month), "người", f"Tính đến hết ngày {end_label}"))
    courseless = {f.key for f in figures if not getattr(f, "by_course", True)}
    for figure in shown:
        note = ""
        if getattr(figure, "ratio", None):
            top, bottom = figure.ratio
            note = f"{counts.total(top)}/{counts.total(bottom)} lượt"
        headline.append(Headline(figure.key, figure.label, value(figure, counts.total), figure.unit, note))
    for figure in figures:
        if getattr(figure, "value", None) is not None and getattr(figure, "facts", None) is None:
            headline.append(Headline(figure.key, figure.label, figure.value, getattr(figure, "unit", "")))
    notes = []
    if filters.course and courseless & {f.key for f in figures}:
        labels = [f.label.lower() for f in figures if f.key in courseless and f.key != "learners.registered"]
        notes.append("Bộ lọc khóa học không áp dụng cho số người học đăng ký"
                     + (f" và {', '.join(labels)}" if labels else "") + ".")

    tables = {}
    people_columns = [Column("learners", "Người học (lũy kế)", "người")]
    if filters.start:
        people_columns.append(Column("learners.registered", "Đăng ký mới trong kỳ", "người"))
    people_columns += [Column("active_30", "Hoạt động 30 ngày", "người"),
                       Column("active_7", "Hoạt động 7 ngày", "người")]
    fact_columns = [Column(f.key, f.label, f.unit) for f in shown]

    def people_row(label: str, ident: Any, dim: str, members: set[Any]) -> Row:
        """One row of people and facts for some audiences or some places."""
        def get(key: str) -> int:
            return counts.within(key, dim, members)

        where = {"audiences": members} if dim == "audience" else {"places": members}
        values: dict[str, float | None] = {
            "learners": cumulative.within("learners.registered", dim, members),
            "learners.registered": get("learners.registered"),
            "active_30": summary.Active.total(active.month, **where),
            "active_7": summary.Active.total(active.week, **where)}
        for figure in shown:
            values[figure.key] = value(figure, get)
        return Row(label, values, ident)

    total = Row("Tổng cộng", {
        "learners": learners, "learners.registered": counts.total("learners.registered"),
        "active_30": summary.Active.total(active.month), "active_7": summary.Active.total(active.week),
        **{f.key: value(f, counts.total) for f in shown}})

    # Per audience.
    audiences = [filters.audience] if filters.audience else list(AUDIENCES)
    rows = [people_row(AUDIENCES[a], a, "audience", {a}) for a in audiences]
    if not filters.audience and _members_seen(counts, cumulative, active, "audience") - set(AUDIENCES):
        rows.append(people_row(UNKNOWN_AUDIENCE, "", "audience", {""}))
    tables["audience"] = Table("audience", "Theo nhóm đối tượng", "Nhóm", people_columns + fact_columns,
                               rows, total, "learners", "Người học đã đăng ký, theo nhóm")

    # Per village (one commune) or per commune (city-wide).
    if counts.place_level == "village":
        places = [filters.village] if filters.village else filters.villages
        title, member_label, unknown = "Theo thôn/tổ dân phố", "Thôn/tổ dân phố", "Không rõ thôn/tổ"
    else:
        places = communes_of(db)
        title, member_label, unknown = "So sánh các xã/phường", "Xã/phường", "Không thuộc xã/phường nào"
    rows = [people_row(p.name, p.id, "place", {p.id}) for p in places]
    stray = _members_seen(counts, cumulative, active, "place") - {p.id for p in places}
    if stray and not filters.village:
        rows.append(people_row(unknown, 0, "place", stray))
    tables["place"] = Table("place", title, member_label, people_columns + fact_columns, rows, total,
                            "learners", f"Người học đã đăng ký, theo {member_label.lower()}")

    # Per course: only figures that belong to a course.
    course_figures = [f for f in shown if f.key not in courseless
                      and not (getattr(f, "ratio", None) and set(f.ratio) & courseless)]
    courses = list(found.dimensions["course"].members) if "course" in found.dimensions else []
    if filters.course:
        courses = [c for c in courses if c.id == filters.course.id]
    course_rows = []
    for course in courses:
        def course_counts(key: str, course_id: int = course.id) -> int:
            return counts.by(key, "course").get(course_id, 0)

        course_rows.append(Row(course.label, {f.key: value(f, course_counts) for f in course_figures}, course.slug))
    if course_figures:
        tables["course"] = Table("course", "Theo khóa học", "Khóa học",
                                 [Column(f.key, f.label, f.unit) for f in course_figures], course_rows, None,
                                 "courses.completed" if "courses.completed" in {f.key for f in course_figures}
                                 else course_figures[0].key, "Khóa học đã hoàn thành theo khóa")

    # Per week: at most the last MAX_WEEKS weeks of the period; without a start, from the first
    # week that has any figure.
    last = last_week
    first = weeks_from if filters.start else max(
        weeks_from, min((w for f in facts for w in counts.by_week(f.key)), default=last))
    week_figures = [f for f in figures if f.key not in numerators
                    and (getattr(f, "facts", None) is not None or getattr(f, "ratio", None))]
    week_rows = []
    week = first
    while week <= last:
        def week_counts(key: str, w: date = week) -> int:
            return counts.by_week(key).get(w, 0)

        ends = min(week + timedelta(days=6), filters.end)
        label = f"{max(week, filters.start or week):%d/%m}–{ends:%d/%m/%Y}"
        week_rows.append(Row(label, {f.key: value(f, week_counts) for f in week_figures}, week))
        week += timedelta(weeks=1)
    tables["week"] = Table("week", "Theo tuần", "Tuần", [Column(f.key, f.label, f.unit) for f in week_figures],
                           week_rows, None, "courses.lessons_completed"
                           if "courses.lessons_completed" in {f.key for f in week_figures}
                           else "learners.registered", "Lượt hoàn thành bài học theo tuần")

    return Dashboard(filters, scope_name(db, filters), headline, tables,
                     target_progress(db, filters, cumulative, found), notes, utcnow())


def _members_seen(counts: summary.Counts, cumulative: summary.Counts, active: summary.Active,
                  dim: str) -> set[Any]:
    """Every audience or place that has some figure: rows must not hide any of them."""
    seen: set[Any] = set()
    for table in (counts, cumulative):
        for key in table.members:
            seen |= {m for m, n in table.by(key, dim).items() if n}
    position = 0 if dim == "audience" else 1
    seen |= {member[position] for member, n in active.month.items() if n}
    return seen


@dataclass
class View:
    """What a dashboard request gets: the figures, or what is wrong with the filters."""

    filters: Filters | None
    courses: list[DimensionMember]
    board: Dashboard | None = None
    errors: dict[str, str] = field(default_factory=dict)


def course_choices(pm: Any, db: Session) -> list[DimensionMember]:
    """Every course the plugins count, for the course filter and the targets."""
    catalog = summary.contributions(pm, StatsScope(db), StatsPeriod(None, local_today()))
    return list(catalog.dimensions["course"].members) if "course" in catalog.dimensions else []


def open_view(ctx: Context, db: Session, params: Any, *, commune_id: int | None, everywhere: bool) -> View:
    """Read the filters, gather every plugin's figures. Only reads (`db` is the request's
    read session): the summary tables are kept up to date by the background job (job.py),
    and the days they do not hold yet (today, or more if the job is behind) are counted
    from the facts. Raises NotFound (code OUT_OF_SCOPE) for a place the viewer may not see."""
    known = summary.reach(db)
    today = local_today()
    # The course list (for the course filter) comes from the plugins, like the figures.
    courses = course_choices(ctx.pm, db)
    filters, errors = parse_filters(db, params, courses={c.slug: c for c in courses}, commune_id=commune_id,
                                    everywhere=everywhere, today=today)
    if errors:
        return View(filters, courses, errors=errors)
    found = summary.contributions(ctx.pm, filters.scope(db), filters.period)
    return View(filters, courses, build(db, ctx.pm, filters, known=known, found=found))


# --- Targets ------------------------------------------------------------------------------------


def targets_of(db: Session, commune_id: int | None) -> list[Target]:
    return list(db.exec(select(Target).where(Target.commune_id == (commune_id or 0))
                        .order_by(Target.audience, Target.kind, Target.course_id)).scalars().all())


def target_progress(db: Session, filters: Filters, cumulative: summary.Counts,
                    found: summary.Contributions) -> list[TargetProgress]:
    courses = {c.id: c for c in found.dimensions["course"].members} if "course" in found.dimensions else {}
    out = []
    for target in targets_of(db, filters.commune.id if filters.commune else None):
        if filters.audience and target.audience != filters.audience:
            continue
        learners = cumulative.by("learners.registered", "audience").get(target.audience, 0)
        audience = AUDIENCES.get(target.audience, UNKNOWN_AUDIENCE)
        if target.kind == "dang-ky":
            out.append(TargetProgress(target, audience, f"Số {audience.lower()} đăng ký học", target.value,
                                      learners, "người"))
            continue
        course = courses.get(target.course_id)
        title = course.label if course else f"khóa học đã ngừng (mã {target.course_id})"
        done = cumulative.by("courses.completed", "audience", "course").get((target.audience, target.course_id), 0)
        out.append(TargetProgress(target, audience, f"Tỷ lệ {audience.lower()} hoàn thành khóa «{title}»",
                                  target.value, ratio(done, learners), "%"))
    return out


def target_commune(db: Session, user: User, requested: Any) -> Place | None:
    """Whose targets: staff their own commune's; an administrator any commune's, or (None)
    the city's. Another commune, or no commune for staff: NotFound."""
    requested = str(requested or "")
    if user.role != "admin":
        commune = db.get(Place, user.commune_id) if user.commune_id else None
        if commune is None or (requested and requested != str(commune.id)):
            raise out_of_scope()
        return commune
    if not requested:
        return None
    commune = _place(db, requested, "commune")
    if commune is None:
        raise NotFound()
    return commune


@dataclass
class TargetInput:
    audience: str = ""
    kind: str = ""
    course: str = ""
    value: str = ""


def save_target(ctx: Context, *, actor: User, commune: Any, data: TargetInput) -> Target:
    """Set (or change) the target for this audience, kind and course of the commune asked for
    (see target_commune); one per combination."""
    errors: dict[str, str] = {}
    if data.audience not in AUDIENCES:
        errors["audience"] = "Vui lòng chọn nhóm đối tượng."
    if data.kind not in TARGET_KINDS:
        errors["kind"] = "Vui lòng chọn loại chỉ tiêu."
    raw = data.value.strip().rstrip("%").strip()
    top = 100 if data.kind == "hoan-thanh" else 10_000_000
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= top:
        errors["value"] = ("Chỉ tiêu là số phần trăm, từ 1 đến 100." if data.kind == "hoan-thanh"
                           else "Chỉ tiêu là số người, từ 1 trở lên.")
    # Read before the write lock is taken: a wrong choice never waits for it.
    with ctx.reading() as db:
        place = target_commune(db, actor, commune)
        courses = {c.slug: c for c in course_choices(ctx.pm, db)}
    course_id = 0
    if data.kind == "hoan-thanh":
        course = courses.get(data.course)
        if course is None:
            errors["course"] = "Vui lòng chọn khóa học cho chỉ tiêu hoàn thành."
        else:
            course_id = course.id
    if errors:
        raise FormErrors(errors)
    key = {"commune_id": place.id if place else 0, "audience": data.audience, "kind": data.kind,
           "course_id": course_id}
    where = [getattr(Target, k) == v for k, v in key.items()]
    with ctx.transaction() as db:
        # The unique key decides: a double submit or a second tab changes the same row.
        insert_ignore(db, Target, {**key, "value": int(raw), "set_by_id": actor.id, "updated_at": utcnow()},
                      list(key))
        db.execute(update(Target).where(*where).values(value=int(raw), set_by_id=actor.id, updated_at=utcnow()))
        return db.exec(select(Target).where(*where)).scalars().one()


def delete_target(ctx: Context, *, actor: User, commune: Any, target_id: int) -> None:
    """Remove one of the targets of the commune asked for; another commune's is NotFound."""
    with ctx.transaction() as db:
        place = target_commune(db, actor, commune)
        target = db.get(Target, target_id)
        if target is None or target.commune_id != (place.id if place else 0):
            raise NotFound()
        db.delete(target)


# --- API tokens -------------------------------------------------------------------------------


def create_token(ctx: Context, *, actor: User, name: str, commune: str) -> tuple[ApiToken, str]:
    """A new token (for every commune, or the one given); the clear text is returned once and
    never stored."""
    try:
        name = clean_text(name, max_length=80)
    except InvalidInput as exc:
        raise FormErrors({"name": str(exc)}) from exc
    if not name:
        raise FormErrors({"name": "Vui lòng đặt tên để biết mã này dùng cho hệ thống nào."})
    commune_id = None
    if commune:
        with ctx.reading() as db:
            place = _place(db, commune, "commune")
        if place is None:
            raise FormErrors({"commune": "Xã/phường không có trong danh sách."})
        commune_id = place.id
    secret = TOKEN_PREFIX + new_token(32)
    with ctx.transaction() as db:
        token = ApiToken(name=name, digest=token_digest(secret), commune_id=commune_id, created_by_id=actor.id)
        db.add(token)
        db.flush()
    return token, secret


def tokens(db: Session) -> list[ApiToken]:
    return list(db.exec(select(ApiToken).order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc()))
                .scalars().all())


def revoke_token(ctx: Context, *, token_id: int) -> None:
    """Refuse the token from now on; one already revoked (or none) is NotFound."""
    with ctx.transaction() as db:
        changed = db.execute(update(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
                             .values(revoked_at=utcnow()))
        if not changed.rowcount:
            raise NotFound()


def token_for(db: Session, secret: str) -> ApiToken | None:
    """The live token behind a bearer value, or None."""
    if not secret or len(secret) > 200:
        return None
    token = db.exec(select(ApiToken).where(ApiToken.digest == token_digest(secret))).scalars().first()
    if token is None or token.revoked_at is not None:
        return None
    return token


def use_token(ctx: Context, *, secret: str) -> ApiToken | None:
    """The live token behind a bearer value (None: refuse the request), its use recorded."""
    with ctx.reading() as db:
        token = token_for(db, secret)
    if token is None:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_EVERY:
        with ctx.transaction() as db:
            db.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))
    return token
