"""Taking a quiz over HTTP: start, save and resume, submit, results, tampering, completion."""

import re

import pytest
from sqlalchemy import func, select

from lms.plugins.courses.models import Enrolment
from lms.plugins.quiz.models import QuizAttempt
from tests.factories import csrf, fresh, login, make_places, make_user, post_form, text_of
from tests.quiz.quiztools import QUIZ, answers_for, latest_attempt, quiz_course


@pytest.fixture
def learner(db, settings):
    return make_user(db, settings, village=make_places(db).villages[0], name="Vũ Thị Thu")


@pytest.fixture
def course(db, tmp_path):
    return quiz_course(db, tmp_path)


def _start(client, slug):
    response = post_form(client, f"/quiz/{slug}/start", {}, page=f"/quiz/{slug}")
    assert response.status_code == 303, response.text
    return response.headers["location"]


def _submit(client, url, form, action="submit"):
    return client.post(url, data={**form, "action": action, "csrf_token": csrf(client, url)})


def test_quiz_needs_an_account(client, course):
    response = client.get(f"/quiz/{course}")
    assert response.status_code == 303 and response.headers["location"] == f"/login?next=/quiz/{course}"


def test_the_form_reveals_no_answer_and_keys_differ_per_attempt(client, db, course, learner):
    login(client, learner.phone)
    url = _start(client, course)
    page = client.get(url).text
    text = text_of(page)
    assert "Gọi số nào để báo tin rác?" in text and "Kiểm tra tên người nhận" in text
    for question in QUIZ["questions"]:
        assert question["explanation"] not in page
    assert not re.search(r'value="(a|b|c|d|s1|s2|true|false)"', page)
    assert "answer" not in page.lower().replace("answers", "")
    first_keys = set(re.findall(r'name="q0" value="([0-9a-f]+)"', page))
    attempt = latest_attempt(db, learner.id)
    _submit(client, url, answers_for(attempt, wrong={0, 1, 2, 3}))
    second = client.get(_start(client, course)).text
    assert first_keys and not first_keys & set(re.findall(r'name="q0" value="([0-9a-f]+)"', second))


def test_all_right_passes_with_explanations_and_completes_the_course(client, db, course, learner):
    login(client, learner.phone)
    for lesson in ("bai-mot", "bai-hai"):
        post_form(client, f"/courses/{course}/{lesson}/done", {}, page=f"/courses/{course}/{lesson}")
    course_page = text_of(client.get(f"/courses/{course}").text)
    assert "Còn cần: Đạt bài kiểm tra cuối khóa (từ 75% trở lên)" in course_page
    url = _start(client, course)
    response = _submit(client, url, answers_for(latest_attempt(db, learner.id)))
    assert response.status_code == 303
    result = text_of(client.get(url).text)
    assert "100% — Đạt (cần 75%)" in result
    assert "Chúc mừng! Bạn đã hoàn thành khóa học" in result
    assert "Luôn kiểm tra tên trước khi xác nhận." in result
    fresh(db)
    assert db.exec(select(Enrolment)).scalars().one().completed_at is not None
    assert "Đã xong: Đạt bài kiểm tra" in text_of(client.get(f"/courses/{course}").text)


def test_partial_credit_and_a_fail_show_what_was_right(client, db, course, learner):
    login(client, learner.phone)
    url = _start(client, course)
    attempt = latest_attempt(db, learner.id)
    form = answers_for(attempt, wrong={2, 3})
    # Question 2: one right pick only, under partial credit: half a point.
    right_keys = [o["key"] for o in attempt.questions[1]["shown"]["options"] if o["id"] == "a"]
    form["q1"] = right_keys
    _submit(client, url, form)
    result = text_of(client.get(url).text)
    assert "38% — Chưa đạt" in result  # (1 + 0.5 + 0 + 0) / 4
    assert "Câu 2: Đúng một phần" in result and "Câu 3: Chưa đúng" in result
    assert "Đáp án đúng: Sai" in result
    steps = "Mở ứng dụng ngân hàng → Quét mã VietQR → Kiểm tra tên người nhận → Xác nhận"
    assert f"Đáp án đúng: {steps}" in result


def test_save_leave_and_come_back(client, db, course, learner):
    login(client, learner.phone)
    url = _start(client, course)
    attempt = latest_attempt(db, learner.id)
    partial = {k: v for k, v in answers_for(attempt).items() if k == "q0"}
    response = _submit(client, url, partial, action="save")
    assert response.headers["location"] == f"{url}?saved=1"
    # Starting again resumes the same attempt with the answer still ticked.
    assert _start(client, course) == url
    page = client.get(url).text
    assert f'value="{partial["q0"]}" checked' in page
    assert "Làm tiếp bài đang dở" in text_of(client.get(f"/quiz/{course}").text)
    fresh(db)
    assert db.exec(select(func.count()).select_from(QuizAttempt)).one()[0] == 1


def test_saving_through_htmx_answers_with_the_time_only(client, db, course, learner):
    login(client, learner.phone)
    url = _start(client, course)
    attempt = latest_attempt(db, learner.id)
    response = client.post(url, data={"q0": answers_for(attempt)["q0"], "action": "save"},
                           headers={"HX-Request": "true", "X-CSRF-Token": csrf(client, url)})
    assert response.status_code == 200
    assert re.fullmatch(r"Đã lưu câu trả lời lúc \d\d:\d\d\.", text_of(response.text))
    assert set(latest_attempt(db, learner.id).answers) == {"0"}


def test_an_overlong_answer_is_refused_and_not_echoed(client, db, course, learner):
    login(client, learner.phone)
    url = _start(client, course)
    form = answers_for(latest_attempt(db, learner.id))
    form["q0"] = "a" * 4000
    response = _submit(client, url, form)
    assert response.status_code == 422
    assert "không thuộc câu hỏi này" in text_of(response.text) and "a" * 200 not in response.text
    after = latest_attempt(db, learner.id)
    assert after.submitted_at is None and after.answers == {}


def test_unanswered_questions_are_named_and_answers_kept(client, db, course, learner):
    login(client, learner.phone)
    url = _start(client, course)
    response = _submit(client, url, answers_for(latest_attempt(db, learner.id), skip={1, 3}))
    assert response.status_code == 422
    assert "Bạn chưa trả lời câu 2, 4" in text_of(response.text)
    attempt = latest_attempt(db, learner.id)
    assert attempt.submitted_at is None and set(attempt.answers) == {"0", "2"}


def test_an_option_from_another_question_changes_nothing(client, db, course, learner):
    login(client, learner.phone)
    url = _start(client, course)
    attempt = latest_attempt(db, learner.id)
    form = answers_for(attempt)
    form["q0"] = attempt.questions[1]["shown"]["options"][0]["key"]
    response = _submit(client, url, form)
    assert response.status_code == 422
    assert "không thuộc câu hỏi này" in text_of(response.text)
    after = latest_attempt(db, learner.id)
    assert after.submitted_at is None and after.answers == {}


def test_ordering_with_a_repeated_step_changes_nothing(client, db, course, learner):
    login(client, learner.phone)
    url = _start(client, course)
    attempt = latest_attempt(db, learner.id)
    form = answers_for(attempt)
    for step in attempt.questions[3]["shown"]["steps"]:
        form[f"q3-{step['key']}"] = "1"
    response = _submit(client, url, form)
    assert response.status_code == 422
    assert "Mỗi số thứ tự chỉ dùng cho một bước" in text_of(response.text)
    assert latest_attempt(db, learner.id).submitted_at is None


def test_a_field_for_a_question_not_shown_is_refused(client, db, course, learner):
    login(client, learner.phone)
    url = _start(client, course)
    form = {**answers_for(latest_attempt(db, learner.id)), "q9": "abc"}
    response = _submit(client, url, form)
    assert response.status_code == 422
    assert "không thuộc bài làm này" in text_of(response.text)


def test_a_finished_attempt_cannot_be_submitted_again(client, db, course, learner):
    login(client, learner.phone)
    url = _start(client, course)
    attempt = latest_attempt(db, learner.id)
    _submit(client, url, answers_for(attempt, wrong={0, 1, 2, 3}))
    again = _submit(client, url, answers_for(attempt))
    assert again.status_code == 409
    assert "đã được nộp trước đó" in text_of(again.text)
    after = latest_attempt(db, learner.id)
    assert after.score == 0 and after.passed is False


def test_another_learners_attempt_is_not_found(client, db, course, learner, settings, make_client):
    login(client, learner.phone)
    url = _start(client, course)
    other = make_user(db, settings, village=make_places(db, commune_name="Xã Khác").villages[0])
    intruder = make_client()
    login(intruder, other.phone)
    assert intruder.get(url).status_code == 404
    token = csrf(intruder, f"/quiz/{course}")
    response = intruder.post(url, data={"csrf_token": token, "action": "submit", "q0": "x"})
    assert response.status_code == 404
    assert latest_attempt(db, learner.id).submitted_at is None


def test_a_course_without_a_quiz_or_retired_has_no_quiz(client, db, tmp_path, learner):
    from tests.courses.packtools import sync_dirs, write_pack

    write_pack(tmp_path / "a", "khoa-khong-kiem-tra")
    sync_dirs(db, [tmp_path / "a"])
    login(client, learner.phone)
    assert client.get("/quiz/khoa-khong-kiem-tra").status_code == 404
    quiz_course(db, tmp_path / "b", slug="khoa-se-ngung")
    url = _start(client, "khoa-se-ngung")
    import shutil

    shutil.rmtree(tmp_path / "b" / "khoa-se-ngung")
    write_pack(tmp_path / "b", "khoa-khac")
    sync_dirs(db, [tmp_path / "b"])
    assert client.get(url).status_code == 404
    assert post_form(client, url, {"action": "submit"}, page="/").status_code == 404


def test_best_passing_attempt_counts_and_completion_is_raised_once(
        install_plugins, make_settings, engine, db, tmp_path):
    from fastapi.testclient import TestClient

    from lms.app import create_app
    from tests.plugins.everything import plugin

    install_plugins({"everything": "tests.plugins.everything.plugin"})
    slug = quiz_course(db, tmp_path)
    settings = make_settings()
    user = make_user(db, settings, village=make_places(db).villages[0])
    plugin.received_events.clear()
    with TestClient(create_app(settings), follow_redirects=False) as client:
        login(client, user.phone)
        for lesson in ("bai-mot", "bai-hai"):
            post_form(client, f"/courses/{slug}/{lesson}/done", {}, page=f"/courses/{slug}/{lesson}")
        for wrong in ({0, 1, 2, 3}, set(), {2, 3}, set()):
            url = _start(client, slug)
            _submit(client, url, answers_for(latest_attempt(db, user.id), wrong=wrong))
        home = text_of(client.get(f"/quiz/{slug}").text)
    assert "Kết quả tốt nhất: 100% — Đạt" in home
    names = [e.name for e in plugin.received_events]
    assert names.count("quiz.passed") == 2
    assert names.count("courses.completed") == 1
    assert names.index("courses.lessons_completed") < names.index("courses.completed")


def test_cool_down_between_attempts(client, db, tmp_path, learner):
    quiz = {**QUIZ, "cooldown_minutes": 30}
    slug = quiz_course(db, tmp_path, quiz=quiz)
    login(client, learner.phone)
    url = _start(client, slug)
    _submit(client, url, answers_for(latest_attempt(db, learner.id), wrong={0, 1, 2, 3}))
    response = post_form(client, f"/quiz/{slug}/start", {}, page=f"/quiz/{slug}")
    assert response.status_code == 429
    assert "Bạn cần chờ thêm 30 phút" in text_of(response.text)
    fresh(db)
    assert db.exec(select(func.count()).select_from(QuizAttempt)).one()[0] == 1
