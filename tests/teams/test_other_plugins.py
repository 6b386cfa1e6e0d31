"""Teams shows what quiz and certificates know only through hooks, so it runs without either of them."""

import csv
import io

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from lms.app import create_app
from lms.core.models import User
from lms.plugins.certificates.models import Certificate
from lms.plugins.courses.models import Course, Lesson
from tests.courses.packtools import write_pack
from tests.factories import fresh, login, make_places, make_user, post_form, text_of
from tests.quiz.quiztools import quiz_course
from tests.teams.teamtools import team_setup

PLAIN = "khoa-tu-hoc"  # no quiz: finishing its lessons completes it, and earns a certificate


@pytest.fixture
def browsers(make_settings, engine):
    """Browsers of an app started with some plugins disabled (the schema is the full one)."""
    opened: list[TestClient] = []
    apps = []

    def start(*disabled: str):
        app = create_app(make_settings(plugins_disable=list(disabled)))
        apps.append(app)

        def browser() -> TestClient:
            client = TestClient(app, base_url="http://testserver", follow_redirects=False)
            client.__enter__()
            opened.append(client)
            return client

        return browser

    yield start
    for client in opened:
        client.__exit__(None, None, None)
    for app in apps:
        app.state.engine.dispose()


def _courses(db, tmp_path):
    """PLAIN and a course with a quiz; returns the quiz course's slug."""
    write_pack(tmp_path / "packs", PLAIN, lessons=["mot", "hai"], title="Dùng điện thoại an toàn")
    return quiz_course(db, tmp_path / "packs")


def _resident_who_finished(browser, db, setup):
    """A resident registered by the member, enrolled in both courses, who learned every lesson
    of PLAIN in person."""
    page = f"/teams/{setup.team.id}/residents/new"
    created = post_form(browser, page, {"full_name": "Hà Thị Mơ", "phone": "", "audience": "nguoi-dan",
                                        "village_id": str(setup.places.villages[0].id), "birth_year": "1950",
                                        "consent": "on"}, page=page)
    assert created.status_code == 303, created.text
    url = created.headers["location"].split("?")[0]
    fresh(db)
    course = db.exec(select(Course).where(Course.slug == PLAIN)).scalars().one()
    lessons = db.exec(select(Lesson.id).where(Lesson.course_id == course.id)).scalars().all()
    others = db.exec(select(Course.id).where(Course.slug != PLAIN)).scalars().all()
    db.commit()
    for course_id in [course.id, *others]:
        enrolled = post_form(browser, f"{url}/enrol", {"course_id": str(course_id)}, page=url)
        assert enrolled.status_code == 303
    done = post_form(browser, f"{url}/lessons", {"course_id": str(course.id),
                                                 "lesson_ids": [str(i) for i in lessons]}, page=url)
    assert done.status_code == 303
    return url, int(url.rsplit("/", 1)[1])


def _csv_row(browser, setup, name):
    response = browser.get(f"/teams/{setup.team.id}/residents.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    return next(r for r in rows if r["Họ và tên"] == name)


def _quiz_start_form(slug, resident_id):
    return f'action="/quiz/{slug}/assisted/{resident_id}/start"'


def test_with_every_plugin_the_resident_page_has_both_sections(browsers, db, settings, tmp_path):
    slug = _courses(db, tmp_path)
    browser = browsers()
    setup = team_setup(browser(), db, settings, browser)
    member = browser()
    login(member, setup.member.phone)
    url, resident_id = _resident_who_finished(member, db, setup)
    page = member.get(url)
    assert page.status_code == 200
    assert _quiz_start_form(slug, resident_id) in page.text  # quiz's section, with its button
    text = text_of(page.text)
    assert "Chứng nhận Dùng điện thoại an toàn" in text  # certificates' section
    assert "Đã hoàn thành" in text and "Thẻ đăng nhập" in text  # teams' own parts
    listing = text_of(member.get(f"/teams/{setup.team.id}/residents").text)
    assert "Hà Thị Mơ (1950) Thôn Đông 2/4 Đã có chứng nhận" in listing
    row = _csv_row(member, setup, "Hà Thị Mơ")
    assert (row["Chứng nhận"], row["Trạng thái"]) == ("1", "Đã có chứng nhận")


def test_without_quiz(browsers, db, settings, tmp_path):
    slug = _courses(db, tmp_path)
    browser = browsers("quiz")
    setup = team_setup(browser(), db, settings, browser)
    member = browser()
    login(member, setup.member.phone)
    url, resident_id = _resident_who_finished(member, db, setup)
    page = member.get(url)
    assert page.status_code == 200
    assert "/quiz/" not in page.text and _quiz_start_form(slug, resident_id) not in page.text
    text = text_of(page.text)
    assert "Chứng nhận Dùng điện thoại an toàn" in text
    assert "Đã học 2/2 bài · Đã hoàn thành" in text and "Thẻ đăng nhập" in text
    listing = member.get(f"/teams/{setup.team.id}/residents")
    assert listing.status_code == 200 and "Đã có chứng nhận" in text_of(listing.text)
    row = _csv_row(member, setup, "Hà Thị Mơ")
    assert (row["Chứng nhận"], row["Trạng thái"]) == ("1", "Đã có chứng nhận")
    assert member.get(f"/quiz/{slug}/assisted/{resident_id}/start").status_code == 404


def test_without_certificates(browsers, db, settings, tmp_path):
    slug = _courses(db, tmp_path)
    browser = browsers("certificates")
    setup = team_setup(browser(), db, settings, browser)
    member = browser()
    login(member, setup.member.phone)
    url, resident_id = _resident_who_finished(member, db, setup)
    page = member.get(url)
    assert page.status_code == 200
    assert _quiz_start_form(slug, resident_id) in page.text
    text = text_of(page.text)
    assert "Chứng nhận" not in text and "/c/" not in page.text
    assert "Đã học 2/2 bài · Đã hoàn thành" in text and "Thẻ đăng nhập" in text
    fresh(db)
    assert db.exec(select(Certificate)).scalars().all() == []  # no plugin issued one
    db.commit()
    listing = text_of(member.get(f"/teams/{setup.team.id}/residents").text)
    assert "Hà Thị Mơ (1950) Thôn Đông 2/4 Đã hoàn thành" in listing and "Đã có chứng nhận" not in listing
    row = _csv_row(member, setup, "Hà Thị Mơ")
    assert (row["Chứng nhận"], row["Trạng thái"]) == ("0", "Đã hoàn thành")


def test_credentials_of_every_plugin_are_added_up(browsers, db, settings, tmp_path, install_plugins):
    install_plugins({"extra_credentials": "tests.teams.credentials_plugin"})
    _courses(db, tmp_path)
    browser = browsers()
    setup = team_setup(browser(), db, settings, browser)
    member = browser()
    login(member, setup.member.phone)
    url, _ = _resident_who_finished(member, db, setup)
    assert "Huy hiệu của plugin thử" in text_of(member.get(url).text)
    # One certificate, and the test plugin's two badges for everyone.
    row = _csv_row(member, setup, "Hà Thị Mơ")
    assert (row["Chứng nhận"], row["Trạng thái"]) == ("3", "Đã có chứng nhận")
    assert _csv_row(member, setup, "Đoàn Viên Thanh")["Chứng nhận"] == "2"


def test_the_quiz_learns_where_a_helper_works_with_a_learner(client, app, db, settings, make_client):
    setup = team_setup(client, db, settings, make_client)
    inside = make_user(db, settings, village=setup.places.villages[1], name="Người Trong Tổ")
    outside = make_user(db, settings, village=setup.places.villages[2], name="Người Thôn Bắc")
    other = make_places(db, commune_name="Xã Khác", villages=("Thôn Lạ",))
    stranger = make_user(db, settings, role="team_member", commune=other.commune)
    other_staff = make_user(db, settings, role="staff", commune=other.commune)
    admin = make_user(db, settings, role="admin")
    fresh(db)
    hook = app.state.pm.hook.assisted_learner_page
    team_url = f"/teams/{setup.team.id}/residents/{inside.id}"
    for helper in (setup.member, setup.staff, admin):
        assert hook(db=db, helper=db.get(User, helper.id), learner_id=inside.id) == team_url
    for helper in (stranger, other_staff, db.get(User, inside.id)):
        assert hook(db=db, helper=db.get(User, helper.id), learner_id=inside.id) is None
    assert hook(db=db, helper=db.get(User, setup.member.id), learner_id=outside.id) is None
    assert hook(db=db, helper=db.get(User, admin.id), learner_id=outside.id) is None  # no team there
    assert hook(db=db, helper=db.get(User, admin.id), learner_id=999_999) is None
    db.commit()
