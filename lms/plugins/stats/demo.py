"""A development tool: fills a database with a realistic city of learners for trying and
benchmarking the statistics (`lms demo-data`).

It writes the tables of other plugins (courses, quiz, certificates, events) directly,
by name, with bulk inserts — something no feature of the application may do. Never
run it on a real installation: it invents people, progress and certificates.
"""

import random
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel

from lms.core.services import CURRENT_CONSENT
from lms.db import writer as write_engine
from lms.settings import Settings
from lms.text import fold

SURNAMES = [("Nguyễn", 38), ("Trần", 11), ("Lê", 9), ("Phạm", 7), ("Hoàng", 4), ("Huỳnh", 1),
            ("Phan", 4), ("Vũ", 3), ("Võ", 1), ("Đặng", 2), ("Bùi", 2), ("Đỗ", 1.5), ("Hồ", 1.3),
            ("Ngô", 1.3), ("Dương", 1), ("Lý", 0.5), ("Đinh", 0.8), ("Trịnh", 0.6), ("Mai", 0.5),
            ("Đào", 0.5), ("Cao", 0.4), ("Lương", 0.4), ("Tạ", 0.3), ("Chu", 0.3), ("Hà", 0.4)]
MIDDLE = {"nam": ["Văn", "Đức", "Minh", "Quang", "Hữu", "Công", "Xuân", "Thanh", "Ngọc", "Tiến", "Đình",
                  "Mạnh", "Trọng", "Anh"],
          "nu": ["Thị", "Thị", "Thị", "Thu", "Ngọc", "Thanh", "Minh", "Phương", "Kim", "Hồng", "Bích",
                 "Thùy", "Mai", "Diệu", "Khánh"]}
GIVEN = {"nam": ["An", "Bình", "Cường", "Dũng", "Duy", "Đạt", "Hải", "Hùng", "Huy", "Khánh", "Long", "Nam",
                 "Phong", "Quân", "Sơn", "Thắng", "Tuấn", "Việt", "Vinh", "Hoàng", "Hiếu", "Kiên", "Lâm",
                 "Lộc", "Phúc", "Tài", "Thành", "Trung", "Tùng", "Minh", "Đông", "Quý", "Toàn", "Nghĩa"],
         "nu": ["Anh", "Chi", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hoa", "Hương", "Huyền", "Lan", "Linh",
                "Loan", "Mai", "My", "Nga", "Ngọc", "Nhung", "Oanh", "Phương", "Quyên", "Thảo", "Thủy",
                "Trang", "Uyên", "Vân", "Yến", "Hiền", "Liên", "Thu", "Tâm", "Xuân", "Duyên", "Hồng"]}
PROVINCE = "Thành phố Hà Nội"
COMMUNES = [
    "Phường Ba Đình", "Phường Ngọc Hà", "Phường Giảng Võ", "Phường Cửa Nam", "Phường Hai Bà Trưng",
    "Phường Vĩnh Tuy", "Phường Bạch Mai", "Phường Đống Đa", "Phường Kim Liên", "Phường Láng",
    "Phường Ô Chợ Dừa", "Phường Hồng Hà", "Phường Lĩnh Nam", "Phường Hoàng Mai", "Phường Tương Mai",
    "Phường Định Công", "Phường Thanh Xuân", "Phường Khương Đình", "Phường Cầu Giấy", "Phường Nghĩa Đô",
    "Phường Tây Hồ", "Phường Long Biên", "Phường Bồ Đề", "Phường Việt Hưng", "Xã Sóc Sơn", "Xã Đông Anh",
    "Xã Gia Lâm", "Xã Thanh Trì", "Xã Bát Tràng", "Xã Phù Đổng", "Xã Thư Lâm", "Xã Mê Linh",
    "Xã Quang Minh", "Xã Tiến Thắng", "Xã Yên Lãng", "Xã Ba Vì", "Xã Chương Mỹ", "Xã Thạch Thất",
]
HAMLETS = ["Đông", "Đoài", "Thượng", "Hạ", "Trung", "Nam", "Bắc", "Tân Lập", "Phú Mỹ", "An Lạc", "Hòa Bình",
           "Quyết Tiến", "Đồng Tâm", "Thống Nhất", "Đại Đồng", "Xuân Lai", "Cổ Điển", "Văn Giáp"]
# Rough shares: most learners are residents; officials, businesses and team members fewer.
AUDIENCE_WEIGHTS = [("nguoi-dan", 70), ("doanh-nghiep", 13), ("can-bo", 10), ("to-cong-nghe", 7)]
EVENT_TITLES = [("le-phat-dong", "Lễ phát động phong trào Bình dân học vụ số"),
                ("tap-huan", "Tập huấn sử dụng VNeID và dịch vụ công trực tuyến"),
                ("tap-huan", "Tập huấn thanh toán không dùng tiền mặt an toàn"),
                ("tap-huan", "Tập huấn kỹ năng số cho hộ kinh doanh"),
                ("hoi-nghi", "Hội nghị triển khai Bình dân học vụ số"),
                ("toa-dam", "Tọa đàm phòng chống lừa đảo trên mạng")]
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
BATCH = 5_000


@dataclass
class Report:
    communes: int = 0
    villages: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def add(self, table: str, n: int) -> None:
        self.rows[table] = self.rows.get(table, 0) + n


@dataclass(frozen=True)
class CourseInfo:
    id: int
    slug: str
    title: str
    audiences: tuple[str, ...]
    lessons: tuple[int, ...]
    pass_mark: int


class DemoError(RuntimeError):
    pass


def generate(engine: sa.Engine, settings: Settings, *, communes: int, learners: int, months: int = 12,
             seed: int = 2026, now: datetime | None = None) -> Report:
    """Add `communes` communes with their villages, `learners` learners, their progress, quiz
    attempts, certificates and events spread over `months` months. One transaction."""
    from lms.migrations import import_all_models

    import_all_models(settings)
    tables = SQLModel.metadata.tables
    started = time.perf_counter()
    rng = random.Random(seed)  # noqa: S311 - invented data, reproducible from the seed
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    report = Report()
    # The write lock from the start (BEGIN IMMEDIATE on SQLite), never a read-only connection.
    with write_engine(engine).begin() as conn:
        courses = _courses(conn, tables)
        if not courses:
            raise DemoError("Chưa có khóa học nào: chạy `lms courses sync` trước.")
        writer = _Writer(conn, tables, report)
        state = _State(conn, tables, rng, now, months)
        places = _places(conn, tables, state, communes, report)
        per_commune = [learners // len(places) + (1 if i < learners % len(places) else 0)
                       for i in range(len(places))]
        for (commune_id, commune_name, villages), count in zip(places, per_commune, strict=True):
            people = list(_people(state, commune_id, villages, count))
            writer.put("core_user", people)
            writer.put("core_consent", [{"user_id": p["id"], "purpose": "account",
                                         "text_version": CURRENT_CONSENT, "method": "self",
                                         "helper_id": None, "given_at": p["created_at"]} for p in people])
            for person in people:
                _learn(state, person, courses, commune_name, writer)
            _events(state, commune_id, villages, people, courses, writer)
            writer.flush()
        _fix_sequences(conn, tables)
    if engine.dialect.name == "postgresql":
        # Fresh planner statistics after a bulk load, before anything is summed from it.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    report.seconds = time.perf_counter() - started
    return report


def _courses(conn: sa.Connection, tables: Any) -> list[CourseInfo]:
    course, lesson = tables["courses_course"], tables["courses_lesson"]
    lessons: dict[int, list[int]] = {}
    for row in conn.execute(sa.select(lesson.c.course_id, lesson.c.id).where(lesson.c.retired.is_(False))
                            .order_by(lesson.c.course_id, lesson.c.position)):
        lessons.setdefault(row.course_id, []).append(row.id)
    out = []
    for row in conn.execute(sa.select(course).where(course.c.retired.is_(False)).order_by(course.c.position)):
        if lessons.get(row.id):
            pass_mark = int((row.quiz or {}).get("pass_mark", 0)) if row.quiz else 0
            out.append(CourseInfo(row.id, row.slug, row.title, tuple(row.audiences), tuple(lessons[row.id]),
                                  pass_mark))
    return out


class _State:
    """Random choices and fresh ids, phones and codes that do not clash with existing rows."""

    def __init__(self, conn: sa.Connection, tables: Any, rng: random.Random, now: datetime,
                 months: int) -> None:
        self.rng, self.now = rng, now
        self.start = now - timedelta(days=30 * months)
        self.next_id = {name: (conn.execute(sa.select(sa.func.max(tables[name].c.id))).scalar() or 0) + 1
                        for name in ("core_user", "events_event")}
        self.phones = set(conn.execute(sa.select(tables["core_user"].c.phone)
                                       .where(tables["core_user"].c.phone.is_not(None))).scalars())
        self.event_codes = set(conn.execute(sa.select(tables["events_event"].c.code)).scalars())
        self.surnames = [s for s, _ in SURNAMES]
        self.surname_weights = [w for _, w in SURNAMES]
        self.audiences = [a for a, _ in AUDIENCE_WEIGHTS]
        self.audience_weights = [w for _, w in AUDIENCE_WEIGHTS]

    def new_id(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] += 1
        return value

    def name(self) -> str:
        sex = self.rng.choice(("nam", "nu"))
        return " ".join((self.rng.choices(self.surnames, self.surname_weights)[0],
                         self.rng.choice(MIDDLE[sex]), self.rng.choice(GIVEN[sex])))

    def phone(self) -> str:
        while True:
            value = f"0{self.rng.choice('35789')}{self.rng.randrange(10 ** 8):08d}"
            if value not in self.phones:
                self.phones.add(value)
                return value

    def event_code(self) -> str:
        while True:
            value = "".join(self.rng.choice(CODE_ALPHABET) for _ in range(6))
            if value not in self.event_codes:
                self.event_codes.add(value)
                return value

    def daytime(self, moment: datetime) -> datetime:
        """The same day between 07:00 and 22:00 Vietnam time (00:00–15:00 UTC)."""
        base = moment.replace(hour=0, minute=0, second=0)
        return base + timedelta(seconds=self.rng.randrange(15 * 3600))

    def after(self, moment: datetime, mean_days: float) -> datetime:
        later = self.daytime(moment + timedelta(days=self.rng.expovariate(1 / mean_days)))
        return later if later > moment else moment + timedelta(minutes=self.rng.randint(2, 90))


class _Writer:
    """Buffers rows per table and inserts them in batches (executemany, no ORM)."""

    ORDER = ("core_user", "core_consent", "courses_enrolment", "courses_lesson_progress", "quiz_attempt",
             "certificates_certificate", "events_event", "events_event_course", "events_registration")

    def __init__(self, conn: sa.Connection, tables: Any, report: Report) -> None:
        self.conn, self.tables, self.report = conn, tables, report
        self.rows: dict[str, list[dict]] = {name: [] for name in self.ORDER}

    def put(self, table: str, rows: list[dict]) -> None:
        self.rows[table].extend(rows)
        if len(self.rows[table]) >= BATCH * 4:
            self.flush()

    def flush(self) -> None:
        # Parents before children, so foreign keys always find their row.
        for name in self.ORDER:
            rows = self.rows[name]
            if rows and self.conn.dialect.name == "postgresql":
                self._copy(name, rows)
            elif rows:
                self._insert_many(name, rows)
            self.report.add(name, len(rows))
            self.rows[name] = []

    def _insert_many(self, name: str, rows: list[dict]) -> None:
        """The driver's executemany with tuples, each value converted by its column type's
        own bind processor (so stored exactly as through SQLAlchemy), the statement
        compiled once: SQLAlchemy's per-row machinery was half the time."""
        table, dialect = self.tables[name], self.conn.dialect
        columns = list(rows[0])
        compiled = table.insert().compile(dialect=dialect, column_keys=columns)
        order = list(compiled.positiontup)
        convert = [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) or _same for c in order]
        # Columns the rows leave out get their Python-side default, as SQLAlchemy gives them.
        filled = [_default(table.c[c]) if c not in rows[0] else None for c in order]
        plan = list(zip(order, convert, filled, strict=True))
        cursor = self.conn.connection.dbapi_connection.cursor()
        try:
            for i in range(0, len(rows), BATCH):
                cursor.executemany(compiled.string, [
                    tuple(f(row[c] if d is None else d()) for c, f, d in plan)
                    for row in rows[i:i + BATCH]])
        finally:
            cursor.close()

    def _copy(self, name: str, rows: list[dict]) -> None:
        """PostgreSQL's COPY, several times faster than INSERTs, in the same transaction."""
        from psycopg.types.json import Json

        table = self.tables[name]
        columns = list(rows[0])
        # Columns the rows leave out but whose Python-side default SQLAlchemy would give.
        missing = [(c.name, _default(c)) for c in table.columns if c.name not in rows[0] and c.default is not None]
        cursor = self.conn.connection.dbapi_connection.cursor()
        with cursor.copy(f"COPY {name} ({', '.join(columns + [c for c, _ in missing])}) FROM STDIN") as copy:
            for row in rows:
                values = list(row.values()) + [fill() for _, fill in missing]
                copy.write_row([Json(v) if isinstance(v, dict | list) else v for v in values])


def _same(value: Any) -> Any:
    return value


def _default(column: sa.Column) -> Any:
    """A function giving the column's Python-side default for one more row."""
    default = column.default
    if default is None:
        return lambda: None
    if default.is_scalar:
        return lambda: default.arg
    if default.is_callable:
        return lambda: default.arg(None)
    raise DemoError(f"{column.table.name}.{column.name}: a default demo data cannot give")


def _places(conn: sa.Connection, tables: Any, state: _State, count: int,
            report: Report) -> list[tuple[int, str, list[int]]]:
    place = tables["core_place"]
    province_id = conn.execute(sa.select(place.c.id).where(place.c.kind == "province",
                                                           place.c.name == PROVINCE)).scalar()
    if province_id is None:
        province_id = _add_place(conn, place, "province", PROVINCE, None, state.now)
    taken = set(conn.execute(sa.select(place.c.name).where(place.c.parent_id == province_id)).scalars())
    names = [n for n in COMMUNES if n not in taken]
    extra = 1
    while len(names) < count:
        candidate = f"Xã Mẫu số {extra}"
        if candidate not in taken:
            names.append(candidate)
        extra += 1
    out = []
    for name in names[:count]:
        commune_id = _add_place(conn, place, "commune", name, province_id, state.now)
        ward = name.startswith("Phường")
        n_villages = state.rng.randint(8, 14)
        hamlets = state.rng.sample(HAMLETS, n_villages) if not ward else []
        villages = [_add_place(conn, place, "village",
                               f"Tổ dân phố số {i + 1}" if ward else f"Thôn {hamlets[i]}", commune_id, state.now)
                    for i in range(n_villages)]
        out.append((commune_id, name, villages))
        report.communes += 1
        report.villages += len(villages)
    return out


def _add_place(conn: sa.Connection, place: Any, kind: str, name: str, parent_id: int | None,
               now: datetime) -> int:
    return conn.execute(place.insert().values(kind=kind, name=name, parent_id=parent_id, active=True,
                                              created_at=now).returning(place.c.id)).scalar_one()


def _people(state: _State, commune_id: int, villages: list[int], count: int) -> Iterator[dict]:
    rng, span = state.rng, (state.now - state.start).total_seconds()
    # Village sizes differ: a few big ones, many small ones.
    weights = [rng.uniform(0.4, 2.0) for _ in villages]
    for _ in range(count):
        audience = rng.choices(state.audiences, state.audience_weights)[0]
        # sqrt: sign-ups grow over the months, as a movement does.
        created = state.daytime(state.start + timedelta(seconds=span * rng.random() ** 0.5))
        created = min(created, state.now - timedelta(minutes=5))
        name = state.name()
        yield {"id": state.new_id("core_user"), "full_name": name, "name_folded": fold(name),
               # Residents registered by a team member often have no phone of their own.
               "phone": state.phone() if rng.random() < 0.85 else None, "password_hash": None,
               "role": "team_member" if audience == "to-cong-nghe" and rng.random() < 0.5 else "learner",
               "audience": audience, "village_id": rng.choices(villages, weights)[0], "commune_id": commune_id,
               "birth_year": rng.randint(1950, 2008), "active": True, "created_at": created,
               "password_changed_at": None}


def _learn(state: _State, person: dict, courses: list[CourseInfo], commune_name: str, writer: _Writer) -> None:
    rng = state.rng
    offered = [c for c in courses if person["audience"] in c.audiences]
    how_many = rng.choices((0, 1, 2, 3), (15, 45, 30, 10))[0]
    for course in rng.sample(offered, min(how_many, len(offered))):
        enrolled = state.after(person["created_at"], 4)
        if enrolled >= state.now:
            continue
        moment, done = enrolled, []
        for lesson_id in course.lessons:
            # Fewer learners reach each next lesson.
            if done and rng.random() > 0.82:
                break
            moment = state.after(moment, 2.5)
            if moment >= state.now:
                break
            done.append({"user_id": person["id"], "lesson_id": lesson_id, "course_id": course.id,
                         "completed_at": moment, "confirmed_by_id": None})
        writer.put("courses_lesson_progress", done)
        lessons_done = len(done) == len(course.lessons)
        completed = None
        if lessons_done:
            completed = moment if not course.pass_mark else _quiz(state, person, course, moment, writer)
        if completed is not None:
            _certificate(state, person, course, commune_name, completed, writer)
        writer.put("courses_enrolment", [{
            "user_id": person["id"], "course_id": course.id, "enrolled_at": enrolled, "enrolled_by_id": None,
            "last_activity_at": completed or moment, "lessons_completed_at": moment if lessons_done else None,
            "completed_at": completed}])


def _quiz(state: _State, person: dict, course: CourseInfo, moment: datetime, writer: _Writer) -> datetime | None:
    """Up to three attempts; returns when the quiz was passed, if it was."""
    rng, attempts = state.rng, []
    passed_at = None
    for _ in range(rng.choices((1, 2, 3), (60, 30, 10))[0]):
        started = moment + timedelta(minutes=rng.randint(5, 60 * 24))
        submitted = started + timedelta(minutes=rng.randint(3, 25))
        if submitted >= state.now:
            break
        passed = rng.random() < 0.72
        score = round(rng.uniform(course.pass_mark, 100) if passed else rng.uniform(30, course.pass_mark - 1), 1)
        attempts.append({"user_id": person["id"], "course_id": course.id, "pass_mark": course.pass_mark,
                         "started_at": started, "saved_at": submitted, "submitted_at": submitted,
                         "score": score, "passed": passed, "questions": [], "answers": {}, "results": {}})
        moment = submitted
        if passed:
            passed_at = submitted
            break
    writer.put("quiz_attempt", attempts)
    return passed_at


def _certificate(state: _State, person: dict, course: CourseInfo, commune_name: str, issued: datetime,
                 writer: _Writer) -> None:
    rng = state.rng
    revoked = None
    if rng.random() < 0.02:
        revoked = issued + timedelta(days=rng.randint(1, 30))
        revoked = revoked if revoked < state.now else None
    writer.put("certificates_certificate", [{
        "code": "".join(rng.choice(CODE_ALPHABET) for _ in range(20)), "user_id": person["id"],
        "course_id": course.id, "learner_name": person["full_name"], "course_slug": course.slug,
        "course_title": course.title, "commune_id": person["commune_id"], "commune_name": commune_name,
        "province_name": PROVINCE, "issued_at": issued + timedelta(seconds=2), "revoked_at": revoked,
        "revoked_reason": "Cấp nhầm (dữ liệu mẫu)" if revoked else None, "replaced_by_id": None,
        # Demo certificates are not signed: there is nothing real to vouch for.
        "credential": {"demo": True}}])


def _events(state: _State, commune_id: int, villages: list[int], people: list[dict],
            courses: list[CourseInfo], writer: _Writer) -> None:
    rng = state.rng
    months = max(1, round((state.now - state.start).days / 30))
    shared = next((c.id for c in courses if len(c.audiences) == 4), None)
    for _ in range(rng.randint(months, 2 * months)):
        kind, title = rng.choice(EVENT_TITLES)
        starts = state.daytime(state.start + timedelta(days=rng.uniform(14, (state.now - state.start).days + 14)))
        event_id = state.new_id("events_event")
        writer.put("events_event", [{
            "id": event_id, "code": state.event_code(), "commune_id": commune_id, "title": title, "kind": kind,
            "village_id": rng.choice(villages), "place_text": "Nhà văn hóa", "starts_at": starts,
            "ends_at": starts + timedelta(hours=2), "capacity": None, "registration_opens_at": None,
            "registration_closes_at": None, "created_by_id": None, "created_at": starts - timedelta(days=10)}])
        if shared:
            writer.put("events_event_course", [{"event_id": event_id, "course_id": shared}])
        eligible = [p for p in people if p["created_at"] < starts - timedelta(days=1)]
        rows = []
        for person in rng.sample(eligible, min(len(eligible), rng.randint(30, 220))):
            registered = max(person["created_at"], starts - timedelta(days=rng.uniform(0.2, 9)))
            if registered >= state.now:
                continue
            came = starts < state.now and rng.random() < 0.76
            rows.append({
                "event_id": event_id, "user_id": person["id"], "token": secrets.token_urlsafe(24),
                "phone": person["phone"], "full_name": person["full_name"], "name_folded": person["name_folded"],
                "village_id": person["village_id"], "audience": person["audience"], "idempotency_key": None,
                "registered_at": registered, "registered_by_id": None,
                "checked_in_at": starts + timedelta(minutes=rng.randint(-20, 40)) if came else None,
                "checked_in_by_id": None, "checkin_nonce": None})
        writer.put("events_registration", rows)


def _fix_sequences(conn: sa.Connection, tables: Any) -> None:
    """Ids were given explicitly; PostgreSQL's sequences must move past them."""
    if conn.dialect.name != "postgresql":
        return
    for name in ("core_user", "events_event"):
        conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608 - fixed names
                             f"(SELECT COALESCE(MAX(id), 1) FROM {name}))")
