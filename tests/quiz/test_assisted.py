"""A quiz taken with a helper: a team member beside a resident of their team's villages.

The quiz plugin owns the pages and the record of who helped; the teams plugin says who may
help whom (the assisted_learner_page hook) and shows the quiz's section on its resident page."""

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from lms.plugins.courses.models import Course
from lms.plugins.quiz.models import QuizAttempt
from tests.factories import csrf, fresh, login, make_places, make_user, post_form, text_of
from tests.quiz.quiztools import QUIZ, answers_for, latest_attempt, quiz_course
from tests.teams.teamtools import team_setup

START_BUTTON = "Làm bài kiểm tra cùng người dân"


@pytest.fixture
def team(client, db, settings, make_client):
    return team_setup(client, db, settings, make_client)


def _resident(db, settings, village, name="Hoàng Văn Bảy"):
    return make_user(db, settings, village=village, name=name)


def _member_browser(make_client, setup):
    browser = make_client()
    login(browser, setup.member.phone)
    return browser


def _enrol(browser, db, setup, resident, slug):
    """The member enrols the resident on the team's resident page."""
    fresh(db)
    course_id = db.exec(select(Course.id).where(Course.slug == slug)).scalar_one()
    db.commit()
    page = f"/teams/{setup.team.id}/residents/{resident.id}"
    enrolled = post_form(browser, f"{page}/enrol", {"course_id": str(course_id)}, page=page)
    assert enrolled.status_code == 303, enrolled.text
    return page


def _start_from_resident_page(browser, resident_page, slug, resident_id):
    """Press the quiz section's button on the resident page, as a browser would."""
    page = browser.get(resident_page).text
    form = re.search(rf'<form method="post" action="(/quiz/{slug}/assisted/{resident_id}/start)">(.*?)</form>',
                     page, flags=re.S)
    assert form, "no button to take the quiz with the resident"
    assert 'name="csrf_token"' in form.group(2) and START_BUTTON in form.group(2)
    return post_form(browser, form.group(1), {}, page=resident_page)


def _post(browser, url, form, action="submit"):
    return browser.post(url, data={**form, "action": action, "csrf_token": csrf(browser, url)})


def test_a_member_takes_a_residents_quiz_with_them(db, settings, make_client, tmp_path, team):
    slug = quiz_course(db, tmp_path)
    resident = _resident(db, settings, team.places.villages[1])
    browser = _member_browser(make_client, team)
    resident_page = _enrol(browser, db, team, resident, slug)
    section = text_of(browser.get(resident_page).text)
    assert "Bài kiểm tra" in section and "Chưa làm bài nào." in section

    start = _start_from_resident_page(browser, resident_page, slug, resident.id)
    assert start.status_code == 303, start.text
    attempt_url = start.headers["location"]
    assert re.fullmatch(rf"/quiz/{slug}/assisted/{resident.id}/attempts/\d+", attempt_url)
    page = browser.get(attempt_url).text
    assert "Làm bài cùng: Hoàng Văn Bảy" in text_of(page)
    assert f'href="{resident_page}"' in page and f'action="{attempt_url}"' in page
    attempt = latest_attempt(db, resident.id)
    assert attempt.helper_id == team.member.id and attempt.submitted_at is None
    # Pressing the button again resumes the same attempt.
    assert _start_from_resident_page(browser, resident_page, slug, resident.id).headers["location"] == attempt_url

    saved = _post(browser, attempt_url, {"q0": answers_for(attempt)["q0"]}, action="save")
    assert saved.headers["location"] == f"{attempt_url}?saved=1"
    assert "Đã lưu câu trả lời." in text_of(browser.get(saved.headers["location"]).text)
    missing = _post(browser, attempt_url, answers_for(attempt, skip={1}))
    assert missing.status_code == 422
    assert "Bạn chưa trả lời câu 2" in text_of(missing.text) and "Làm bài cùng: Hoàng Văn Bảy" in text_of(missing.text)
    assert set(latest_attempt(db, resident.id).answers) == {"0", "2", "3"}

    done = _post(browser, attempt_url, answers_for(attempt))
    assert done.status_code == 303 and done.headers["location"] == attempt_url
    result = browser.get(attempt_url).text
    assert "100% — Đạt (cần 75%)" in text_of(result) and "Làm bài cùng: Hoàng Văn Bảy" in text_of(result)
    assert f'href="{resident_page}"' in result
    graded = latest_attempt(db, resident.id)
    assert (graded.user_id, graded.helper_id, graded.passed) == (resident.id, team.member.id, True)

    listed = text_of(browser.get(resident_page).text)
    assert "Khóa học khoa-kiem-tra: 100% (Đạt)" in listed and "làm cùng Đoàn Viên Thanh" in listed
    # It is the resident's own attempt: their quiz page counts it.
    own = make_client()
    login(own, resident.phone)
    assert "Kết quả tốt nhất: 100% — Đạt" in text_of(own.get(f"/quiz/{slug}").text)


def test_someone_the_hook_does_not_allow_gets_not_found(db, settings, make_client, tmp_path, team):
    slug = quiz_course(db, tmp_path)
    resident = _resident(db, settings, team.places.villages[0])
    elsewhere = _resident(db, settings, team.places.villages[2], name="Lê Thị Tám")  # not a team village
    browser = _member_browser(make_client, team)
    resident_page = _enrol(browser, db, team, resident, slug)
    attempt_url = _start_from_resident_page(browser, resident_page, slug, resident.id).headers["location"]
    attempt = latest_attempt(db, resident.id)

    outside = post_form(browser, f"/quiz/{slug}/assisted/{elsewhere.id}/start", {}, page=resident_page)
    assert outside.status_code == 404
    # The resident's attempt under another learner's address is not theirs.
    foreign = f"/quiz/{slug}/assisted/{elsewhere.id}/attempts/{attempt.id}"
    assert browser.get(foreign).status_code == 404

    loner = make_user(db, settings, role="team_member", commune=team.places.commune, name="Trần Văn Lẻ")
    stranger = make_client()
    login(stranger, loner.phone)
    assert post_form(stranger, f"/quiz/{slug}/assisted/{resident.id}/start", {}, page="/").status_code == 404
    assert stranger.get(attempt_url).status_code == 404
    refused = stranger.post(attempt_url, data={**answers_for(attempt), "action": "submit",
                                               "csrf_token": csrf(stranger, "/")})
    assert refused.status_code == 404
    fresh(db)
    assert db.exec(select(func.count()).select_from(QuizAttempt)).one()[0] == 1
    db.commit()
    after = latest_attempt(db, resident.id)
    assert after.submitted_at is None and after.helper_id == team.member.id


def test_a_learner_cannot_open_the_assisted_pages(client, db, settings, make_client, tmp_path, team):
    slug = quiz_course(db, tmp_path)
    resident = _resident(db, settings, team.places.villages[0])
    browser = _member_browser(make_client, team)
    resident_page = _enrol(browser, db, team, resident, slug)
    attempt_url = _start_from_resident_page(browser, resident_page, slug, resident.id).headers["location"]

    learner = make_client()
    login(learner, resident.phone)
    assert learner.get(attempt_url).status_code == 403
    assert post_form(learner, f"/quiz/{slug}/assisted/{resident.id}/start", {}, page="/").status_code == 403
    anonymous = make_client()
    response = anonymous.get(attempt_url)
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")


def test_a_cool_down_is_explained_on_a_page(db, settings, make_client, tmp_path, team):
    slug = quiz_course(db, tmp_path, quiz={**QUIZ, "cooldown_minutes": 60})
    resident = _resident(db, settings, team.places.villages[0])
    browser = _member_browser(make_client, team)
    resident_page = _enrol(browser, db, team, resident, slug)
    attempt_url = _start_from_resident_page(browser, resident_page, slug, resident.id).headers["location"]
    _post(browser, attempt_url, answers_for(latest_attempt(db, resident.id), wrong={0, 1, 2, 3}))

    again = _start_from_resident_page(browser, resident_page, slug, resident.id)
    assert again.status_code == 429
    text = text_of(again.text)
    assert "Bạn cần chờ thêm 60 phút" in text and "Làm bài cùng: Hoàng Văn Bảy" in text
    assert f'href="{resident_page}"' in again.text
    fresh(db)
    assert db.exec(select(func.count()).select_from(QuizAttempt)).one()[0] == 1


def test_without_the_teams_plugin_nobody_may_assist(make_settings, engine, db, tmp_path):
    from lms.app import create_app

    slug = quiz_course(db, tmp_path)
    places = make_places(db)
    settings = make_settings(plugins_disable=["teams"])
    resident = make_user(db, settings, village=places.villages[0])
    member = make_user(db, settings, role="team_member", commune=places.commune, name="Đoàn Viên Thanh")
    with TestClient(create_app(settings), follow_redirects=False) as browser:
        login(browser, member.phone)
        refused = post_form(browser, f"/quiz/{slug}/assisted/{resident.id}/start", {}, page="/")
        assert refused.status_code == 404
        # The quiz itself still works.
        assert "Bài kiểm tra cuối khóa" in text_of(browser.get(f"/quiz/{slug}").text)
    fresh(db)
    assert db.exec(select(func.count()).select_from(QuizAttempt)).one()[0] == 0
