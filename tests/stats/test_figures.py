"""Every number on the dashboard against the small town of statstools, counted by hand."""

from collections import defaultdict

import pytest

from tests.factories import login
from tests.stats.statstools import PLAIN_COURSE, QUIZ_COURSE, build_town, read, week_label, week_of

# Columns of the people tables, in the order of the dashboard.
COLUMNS = ["learners", "active_30", "active_7", "courses.lessons_completed", "quiz.submitted",
           "quiz.pass_rate", "courses.completed", "certificates.issued", "certificates.revoked",
           "events.registered", "events.checked_in"]


def row(*values: str) -> dict[str, str]:
    return dict(zip(COLUMNS, values, strict=True))


@pytest.fixture
def town(client, make_client, db, settings, tmp_path):
    return build_town(client, make_client, db, settings, tmp_path)


def test_staff_dashboard_shows_each_hand_counted_figure(client, town):
    login(client, town.staff.phone)
    page = client.get("/stats")
    assert page.status_code == 200
    view = read(page.text)
    assert view.figures == {
        "learners": "5",             # an, binh, giang, chi, dung (em lives in Xã Bên Kia)
        "active_7": "3",             # an (today), binh (quiz D3), chi (today)
        "active_30": "4",            # … and giang (lesson D20); dung only registered for the event
        "courses.lessons_completed": "8",  # an 3, binh 2, chi 2, giang 1
        "quiz.submitted": "3",       # an 1 (passed), binh 2 (failed, then passed)
        "quiz.pass_rate": "66,7%",   # 2 of 3
        "courses.completed": "3",    # an and binh course A, chi course B
        "certificates.issued": "3",
        "certificates.revoked": "1",  # chi's
        "events.registered": "2",    # an, dung
        "events.checked_in": "1",    # an
        "hoi_dap.questions": "0",    # counted by the Q&A plugin itself (a value, no learner)
        "hoi_dap.unanswered": "0",
    }
    assert view.notes["quiz.pass_rate"] == "2/3 lượt"
    assert view.tables["audience"] == {
        "Cán bộ, công chức, viên chức": row("2", "2", "1", "3", "2", "50", "1", "1", "0", "0", "0"),
        "Doanh nghiệp, hộ kinh doanh": row("1", "1", "1", "2", "0", "—", "1", "1", "1", "0", "0"),
        "Tổ công nghệ số cộng đồng": row("0", "0", "0", "0", "0", "—", "0", "0", "0", "0", "0"),
        "Người dân": row("2", "1", "1", "3", "1", "100", "1", "1", "0", "2", "1"),
        "Tổng cộng": row("5", "4", "3", "8", "3", "66,7", "3", "3", "1", "2", "1"),
    }
    assert view.tables["place"] == {
        "Thôn Đoài": row("2", "1", "1", "2", "0", "—", "1", "1", "1", "1", "0"),
        "Thôn Đông": row("3", "3", "2", "6", "3", "66,7", "2", "2", "0", "1", "1"),
        "Tổng cộng": row("5", "4", "3", "8", "3", "66,7", "3", "3", "1", "2", "1"),
    }
    course = ["courses.lessons_completed", "quiz.submitted", "quiz.pass_rate", "courses.completed",
              "certificates.issued", "certificates.revoked"]
    assert view.tables["course"] == {
        "Khóa có bài kiểm tra": dict(zip(course, ["5", "3", "66,7", "2", "2", "0"], strict=True)),
        "Khóa không kiểm tra": dict(zip(course, ["3", "0", "—", "1", "1", "1"], strict=True)),
    }


def test_weekly_series_puts_each_fact_in_its_week(client, town):
    days, today = town.days, town.days["D0"]
    expected: dict = defaultdict(lambda: defaultdict(int))
    for key, day, n in [("learners.registered", "D40", 2), ("learners.registered", "D20", 2),
                        ("learners.registered", "D0", 1), ("courses.lessons_completed", "D20", 3),
                        ("courses.lessons_completed", "D10", 2), ("courses.lessons_completed", "D0", 3),
                        ("quiz.submitted", "D10", 2), ("quiz.submitted", "D3", 1), ("courses.completed", "D10", 1),
                        ("courses.completed", "D3", 1), ("courses.completed", "D0", 1),
                        ("certificates.revoked", "D0", 1), ("events.registered", "D0", 2),
                        ("events.checked_in", "D0", 1)]:
        expected[week_of(days[day])][key] += n
    login(client, town.staff.phone)
    weeks = read(client.get("/stats").text).tables["week"]
    first = week_of(days["D40"])
    assert list(weeks)[0] == week_label(first, today)
    assert list(weeks)[-1] == week_label(week_of(today), today)
    assert len(weeks) == (week_of(today) - first).days // 7 + 1  # empty weeks show as zeros
    by_label = {week_label(week, today): counts for week, counts in expected.items()}
    for label, values in weeks.items():
        for key in ("learners.registered", "courses.lessons_completed", "quiz.submitted", "courses.completed",
                    "certificates.revoked", "events.registered", "events.checked_in"):
            assert values[key] == str(by_label.get(label, {}).get(key, 0)), (label, key)
    assert sum(int(v["courses.lessons_completed"]) for v in weeks.values()) == 8


def test_a_period_counts_what_happened_in_it(client, town):
    days = town.days
    login(client, town.staff.phone)
    query = f"from={days['D20'].isoformat()}&to={days['D10'].strftime('%d/%m/%Y')}"
    view = read(client.get(f"/stats?{query}").text)
    assert view.figures == {
        "learners": "4",              # joined by D10: an, dung (D40), binh, giang (D20)
        "active_7": "2",              # D16–D10: an (quiz), binh (lessons, quiz)
        "active_30": "3",             # D39–D10: … and giang (D20)
        "courses.lessons_completed": "5",  # an 2 and giang 1 on D20, binh 2 on D10
        "quiz.submitted": "2", "quiz.pass_rate": "50%", "courses.completed": "1",
        "certificates.issued": "1", "certificates.revoked": "0",
        "events.registered": "0", "events.checked_in": "0",
        "hoi_dap.questions": "0", "hoi_dap.unanswered": "0",
    }
    assert view.notes["learners"] == "Mới trong kỳ: 2"  # binh, giang
    assert view.tables["audience"]["Cán bộ, công chức, viên chức"]["learners.registered"] == "2"
    assert view.tables["audience"]["Người dân"]["learners"] == "2"


def test_filters_by_audience_village_and_course(client, db, town):
    login(client, town.staff.phone)
    officials = read(client.get("/stats?audience=can-bo").text)
    assert (officials.figures["learners"], officials.figures["courses.lessons_completed"],
            officials.figures["quiz.pass_rate"], officials.figures["active_30"]) == ("2", "3", "50%", "2")
    assert list(officials.tables["audience"]) == ["Cán bộ, công chức, viên chức", "Tổng cộng"]

    west = town.places.villages[1]
    village = read(client.get(f"/stats?village={west.id}").text)
    assert (village.figures["learners"], village.figures["courses.lessons_completed"],
            village.figures["events.registered"], village.figures["certificates.revoked"]) == ("2", "2", "1", "1")
    assert list(village.tables["place"]) == ["Thôn Đoài", "Tổng cộng"]

    course = read(client.get(f"/stats?course={PLAIN_COURSE}").text)
    assert (course.figures["courses.lessons_completed"], course.figures["courses.completed"],
            course.figures["quiz.submitted"], course.figures["quiz.pass_rate"],
            course.figures["certificates.revoked"]) == ("3", "1", "0", "—", "1")
    # Registrations and events have no course: the filter does not narrow them, and says so.
    assert course.figures["events.registered"] == "2"
    assert "Bộ lọc khóa học không áp dụng" in client.get(f"/stats?course={PLAIN_COURSE}").text
    assert list(course.tables["course"]) == ["Khóa không kiểm tra"]
    quiz_only = read(client.get(f"/stats?course={QUIZ_COURSE}&audience=nguoi-dan").text)
    assert (quiz_only.figures["courses.lessons_completed"], quiz_only.figures["quiz.pass_rate"],
            quiz_only.figures["active_30"]) == ("2", "100%", "1")


def test_admin_sees_the_city_and_compares_communes(client, town):
    login(client, town.admin.phone)
    view = read(client.get("/stats").text)
    assert (view.figures["learners"], view.figures["courses.lessons_completed"], view.figures["active_7"],
            view.figures["active_30"]) == ("6", "9", "4", "5")  # em: joined D10, lesson D3
    places = view.tables["place"]
    assert places["Xã Minh Châu"]["learners"] == "5" and places["Xã Minh Châu"]["courses.lessons_completed"] == "8"
    assert places["Xã Bên Kia"]["learners"] == "1" and places["Xã Bên Kia"]["active_7"] == "1"
    assert places["Tổng cộng"]["learners"] == "6"
    one = read(client.get(f"/stats?commune={town.other.commune.id}").text)
    assert one.figures["learners"] == "1" and list(one.tables["place"]) == ["Thôn Xa", "Tổng cộng"]


def test_htmx_asks_for_the_results_only(client, town):
    login(client, town.staff.phone)
    fragment = client.get("/stats?audience=can-bo", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="ket-qua">')
    assert "<form" not in fragment.text and "<html" not in fragment.text
    assert read(fragment.text).figures["learners"] == "2"
    assert "HX-Request" in fragment.headers["vary"]
    full = client.get("/stats?audience=can-bo")
    assert "<html" in full.text and 'hx-get="/stats"' in full.text
