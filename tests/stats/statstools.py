"""A small town built through the site as people use it, then moved back in time; and a
reader for the figures the dashboard shows."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from html.parser import HTMLParser

from sqlalchemy import select, update

from lms.core.models import Place, User
from lms.plugins.certificates.models import Certificate
from lms.plugins.courses.models import Course, Enrolment, LessonProgress
from lms.plugins.events.models import Event, Registration
from lms.plugins.quiz.models import QuizAttempt
from lms.stats_scope import VIETNAM, local_today
from tests.courses.packtools import sync_dirs, write_pack
from tests.events.eventtools import event_form, register
from tests.factories import csrf, fresh, login, make_places, make_user, post_form
from tests.quiz.quiztools import QUIZ, answers_for, latest_attempt

QUIZ_COURSE, PLAIN_COURSE = "khoa-kiem-tra", "khoa-khong-quiz"


def at(day: date) -> datetime:
    """Ten in the morning, Vietnam time, of that day."""
    return datetime.combine(day, time(10), tzinfo=VIETNAM)


@dataclass
class Town:
    places: object
    other: object
    people: dict[str, User]
    staff: User
    admin: User
    days: dict[str, date]
    course_ids: dict[str, int]
    event: Event
    extra: dict = field(default_factory=dict)


def _done(browser, slug: str, lesson: str) -> None:
    page = f"/courses/{slug}/{lesson}"
    response = post_form(browser, f"{page}/done", {}, page=page)
    assert response.status_code == 303, response.text


def _quiz(browser, db, user: User, *, passing: bool) -> None:
    start = browser.post(f"/quiz/{QUIZ_COURSE}/start", data={"csrf_token": csrf(browser, f"/quiz/{QUIZ_COURSE}")})
    assert start.status_code == 303, start.text
    url = start.headers["location"]
    wrong = set() if passing else {0, 1, 2}
    submitted = browser.post(url, data={**answers_for(latest_attempt(db, user.id), wrong=wrong),
                                        "csrf_token": csrf(browser, url), "action": "submit"})
    assert submitted.status_code == 303, submitted.text


def build_town(client, make_client, db, settings, tmp_path) -> Town:
    """Learners of Xã Minh Châu (and one of Xã Bên Kia) who sign up, read, pass quizzes, get
    certificates and come to an event; then every fact is moved to its day:

    an    nguoi-dan    Thôn Đông  joined D40; lessons A1 A2 on D20; passes the quiz D10 (course A
                                  done, certificate); lesson B1 today; registers and attends today
    binh  can-bo       Thôn Đông  joined D20; lessons A1 A2 on D10; fails the quiz D10, passes D3
    giang can-bo       Thôn Đông  joined D20; lesson A1 on D20
    chi   doanh-nghiep Thôn Đoài  joined today; lessons B1 B2 today (course B done, certificate,
                                  which staff revoke today)
    dung  nguoi-dan    Thôn Đoài  joined D40; registers for the event today, does not come
    em    nguoi-dan    Thôn Xa (Xã Bên Kia) joined D10; lesson A1 on D3
    """
    today = local_today()
    days = {"D40": today - timedelta(days=40), "D20": today - timedelta(days=20),
            "D10": today - timedelta(days=10), "D3": today - timedelta(days=3), "D0": today}
    write_pack(tmp_path, QUIZ_COURSE, lessons=["bai-mot", "bai-hai"], quiz=QUIZ, title="Khóa có bài kiểm tra")
    write_pack(tmp_path, PLAIN_COURSE, lessons=["bai-mot", "bai-hai"], title="Khóa không kiểm tra")
    sync_dirs(db, [tmp_path])
    places = make_places(db)
    other = make_places(db, commune_name="Xã Bên Kia", villages=("Thôn Xa",))
    east, west = places.villages  # Thôn Đông, Thôn Đoài
    spec = {"an": ("Nguyễn Văn An", "nguoi-dan", east), "binh": ("Trần Thị Bình", "can-bo", east),
            "giang": ("Lê Văn Giang", "can-bo", east), "chi": ("Phạm Thị Chi", "doanh-nghiep", west),
            "dung": ("Hoàng Văn Dũng", "nguoi-dan", west), "em": ("Vũ Thị Em", "nguoi-dan", other.villages[0])}
    people = {key: make_user(db, settings, name=name, audience=audience, village=village)
              for key, (name, audience, village) in spec.items()}
    # Staff and administrators have no audience group: they are not counted as learners.
    staff = make_user(db, settings, role="staff", commune=places.commune, name="Cán Bộ Xã", audience=None)
    admin = make_user(db, settings, role="admin", name="Quản Trị Thành Phố", audience=None)

    browsers = {}
    for key in people:
        browsers[key] = make_client()
        login(browsers[key], people[key].phone)
    for key, slug, lesson in [("an", QUIZ_COURSE, "bai-mot"), ("an", QUIZ_COURSE, "bai-hai"),
                              ("an", PLAIN_COURSE, "bai-mot"), ("binh", QUIZ_COURSE, "bai-mot"),
                              ("binh", QUIZ_COURSE, "bai-hai"), ("giang", QUIZ_COURSE, "bai-mot"),
                              ("chi", PLAIN_COURSE, "bai-mot"), ("chi", PLAIN_COURSE, "bai-hai"),
                              ("em", QUIZ_COURSE, "bai-mot")]:
        _done(browsers[key], slug, lesson)
    _quiz(browsers["an"], db, people["an"], passing=True)
    _quiz(browsers["binh"], db, people["binh"], passing=False)
    _quiz(browsers["binh"], db, people["binh"], passing=True)

    login(client, staff.phone)
    created = post_form(client, "/staff/events/new", event_form(), page="/staff/events/new")
    assert created.status_code == 303, created.text
    fresh(db)
    event = db.exec(select(Event).order_by(Event.id.desc())).scalars().first()
    db.commit()
    for key in ("an", "dung"):
        person = people[key]
        response = register(make_client(), event, name=person.full_name, phone=person.phone,
                            village=east if key == "an" else west)
        assert response.status_code == 303, response.text
    fresh(db)
    token = db.exec(select(Registration.token).where(Registration.user_id == people["an"].id)).scalar()
    db.commit()
    checkin = f"/staff/events/{event.id}/checkin"
    assert post_form(client, checkin, {"scan": token, "nonce": "n1"}, page=checkin).status_code == 200

    fresh(db)
    course_ids = {c.slug: c.id for c in db.exec(select(Course)).scalars().all()}
    chi_certificate = db.exec(select(Certificate.id).where(Certificate.user_id == people["chi"].id)).scalar()
    db.commit()
    revoked = post_form(client, f"/staff/certificates/{chi_certificate}/revoke", {"reason": "Cấp nhầm"},
                        page=f"/staff/certificates/{chi_certificate}")
    assert revoked.status_code == 303, revoked.text
    client.cookies.clear()

    _move_to_their_days(db, people, days, course_ids)
    for row in [*people.values(), staff, admin, places.commune, *places.villages, other.commune,
                *other.villages, event]:
        db.refresh(row)
    # End the read: an open SQLite snapshot would stop this session writing later.
    db.commit()
    return Town(places, other, people, staff, admin, days, course_ids, event)


def _move_to_their_days(db, people, days, course_ids) -> None:
    """Everything above happened just now; put each fact on the day of the story."""
    quiz_course = course_ids[QUIZ_COURSE]

    def user(key):
        return people[key].id

    for key, day in [("an", "D40"), ("binh", "D20"), ("giang", "D20"), ("dung", "D40"), ("em", "D10")]:
        db.execute(update(User).where(User.id == user(key)).values(created_at=at(days[day])))
    for key, day in [("an", "D20"), ("binh", "D10"), ("giang", "D20"), ("em", "D3")]:
        db.execute(update(LessonProgress).where(LessonProgress.user_id == user(key),
                                                LessonProgress.course_id == quiz_course)
                   .values(completed_at=at(days[day])))
    db.execute(update(Enrolment).where(Enrolment.course_id == quiz_course).values(enrolled_at=at(days["D20"])))
    attempts = {key: db.exec(select(QuizAttempt.id).where(QuizAttempt.user_id == user(key))
                             .order_by(QuizAttempt.id)).scalars().all() for key in ("an", "binh")}
    for attempt_id, day in [(attempts["an"][0], "D10"), (attempts["binh"][0], "D10"), (attempts["binh"][1], "D3")]:
        db.execute(update(QuizAttempt).where(QuizAttempt.id == attempt_id)
                   .values(started_at=at(days[day]) - timedelta(minutes=20), submitted_at=at(days[day])))
    for key, day in [("an", "D10"), ("binh", "D3")]:
        db.execute(update(Enrolment).where(Enrolment.user_id == user(key), Enrolment.course_id == quiz_course)
                   .values(completed_at=at(days[day]), lessons_completed_at=at(days[day])))
        db.execute(update(Certificate).where(Certificate.user_id == user(key)).values(issued_at=at(days[day])))
    db.commit()


# --- Reading the dashboard ---------------------------------------------------------------------


class DashboardReader(HTMLParser):
    """figures: key → shown text; tables: name → row label → column key → shown text."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, str] = {}
        self.notes: dict[str, str] = {}
        self.tables: dict[str, dict[str, dict[str, str]]] = {}
        self.targets: dict[str, dict[str, str]] = {}
        self._figure = self._table = self._row = self._col = self._target = None
        self._span = None
        self._text: list[str] = []
        self._in_row_label = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "data-figure" in attrs:
            self._figure = attrs["data-figure"]
        if tag == "span" and self._figure and attrs.get("class") in ("value", "note"):
            self._span, self._text = attrs["class"], []
        if tag == "table" and "data-table" in attrs:
            self._table = attrs["data-table"]
            self.tables[self._table] = {}
        if tag == "th" and attrs.get("scope") == "row" and self._table:
            self._in_row_label, self._text = True, []
        if tag == "td" and self._table and "data-col" in attrs:
            self._col, self._text = attrs["data-col"], []
        if "data-target" in attrs:
            self._target = attrs["data-target"]
            self.targets[self._target] = {}
        if tag == "strong" and self._target and "data-col" in attrs:
            self._col, self._text = attrs["data-col"], []

    def handle_endtag(self, tag):
        text = " ".join("".join(self._text).split())
        if tag == "span" and self._span:
            (self.figures if self._span == "value" else self.notes)[self._figure] = text
            self._span = None
        if tag == "li" and self._figure:
            self._figure = None
        if tag == "th" and self._in_row_label:
            self._row, self._in_row_label = text, False
            self.tables[self._table][self._row] = {}
        if tag == "td" and self._col and self._table:
            self.tables[self._table][self._row][self._col] = text
            self._col = None
        if tag == "strong" and self._col and self._target:
            self.targets[self._target][self._col] = text
            self._col = None
        if tag == "li" and self._target:
            self._target = None
        if tag == "table":
            self._table = None

    def handle_data(self, data):
        self._text.append(data)


def read(page: str) -> DashboardReader:
    reader = DashboardReader()
    reader.feed(page)
    return reader


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_label(week: date, end: date, start: date | None = None) -> str:
    first = max(week, start) if start else week
    return f"{first:%d/%m}–{min(week + timedelta(days=6), end):%d/%m/%Y}"


def place(db, name: str) -> Place:
    return db.exec(select(Place).where(Place.name == name)).scalars().first()

