"""Per-quiz figures for staff: attempts, pass rate, each question's share of right answers."""

import pytest

from tests.factories import csrf, login, make_places, make_user, text_of
from tests.quiz.quiztools import answers_for, latest_attempt, quiz_course


def _take(client, db, user, slug, wrong):
    login(client, user.phone)
    start = client.post(f"/quiz/{slug}/start", data={"csrf_token": csrf(client, f"/quiz/{slug}")})
    url = start.headers["location"]
    client.post(url, data={**answers_for(latest_attempt(db, user.id), wrong=wrong),
                           "csrf_token": csrf(client, url), "action": "submit"})


def test_staff_see_their_communes_figures_only(client, db, settings, tmp_path, make_client):
    slug = quiz_course(db, tmp_path)
    ours = make_places(db)
    theirs = make_places(db, commune_name="Xã Bên Kia", villages=("Thôn Xa",))
    a = make_user(db, settings, village=ours.villages[0])
    b = make_user(db, settings, village=ours.villages[1])
    c = make_user(db, settings, village=theirs.villages[0])
    _take(make_client(), db, a, slug, wrong=set())       # 100 %, pass
    _take(make_client(), db, b, slug, wrong={0, 2})      # 50 %, fail
    _take(make_client(), db, c, slug, wrong={0, 1, 2, 3})  # other commune
    staff = make_user(db, settings, role="staff", commune=ours.commune)
    login(client, staff.phone)
    page = text_of(client.get("/staff/quizzes").text)
    assert "Người học của Xã Minh Châu" in page
    assert "2 lượt nộp bài · 1 lượt đạt (50%) · 1/2 người đã đạt" in page
    assert "Gọi số nào để báo tin rác? 50%" in page       # a right, b wrong
    assert "Điều nào không được làm? 100%" in page
    assert "Công an lấy lời khai qua điện thoại. 50%" in page


def test_admin_sees_everyone_or_one_commune(client, db, settings, tmp_path, make_client):
    slug = quiz_course(db, tmp_path)
    ours = make_places(db)
    a = make_user(db, settings, village=ours.villages[0])
    _take(make_client(), db, a, slug, wrong=set())
    admin = make_user(db, settings, role="admin")
    login(client, admin.phone)
    assert "1 lượt nộp bài · 1 lượt đạt (100%)" in text_of(client.get("/staff/quizzes").text)


@pytest.mark.parametrize(("role", "status"), [("learner", 403), ("team_member", 403), ("staff", 200),
                                              ("admin", 200)])
def test_quiz_figures_per_role(client, db, settings, role, status):
    places = make_places(db)
    user = make_user(db, settings, role=role, commune=places.commune, village=places.villages[0])
    login(client, user.phone)
    assert client.get("/staff/quizzes").status_code == status
