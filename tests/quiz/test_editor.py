"""The quiz editor in the course editor: each question type's own form, checked by its own rules."""

import re

import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select

from lms.app import create_app
from lms.plugins.courses.models import ContentEditor, Course, CourseDraft
from tests.courses.test_authoring import _create, _lesson, _publish, body
from tests.factories import fresh, login, make_places, make_user, post_form, text_of


def _editor(client, db, settings, places=None):
    places = places or make_places(db)
    editor = make_user(db, settings, role="staff", commune=places.commune, name="Cán Bộ Văn Hóa")
    db.add(ContentEditor(user_id=editor.id))
    db.commit()
    login(client, editor.phone)
    return places, editor


def _question(client, draft_id, kind, data, number=None):
    page = f"/studio/{draft_id}/quiz/{number or 'new/' + kind}"
    return post_form(client, page, data, page=page)


def _quiz(db, draft_id):
    fresh(db)
    text = db.get(CourseDraft, draft_id).files.get("quiz.yaml")
    db.commit()
    return yaml.safe_load(text) if text else None


def test_every_built_in_type_has_its_editor_and_its_rules(client, make_client, db, settings):
    places, _ = _editor(client, db, settings)
    draft_id = _create(client, title="Khóa có bài kiểm tra")
    first = _lesson(client, draft_id, "Bài một", body("Bài một."))
    second = _lesson(client, draft_id, "Bài hai", body("Bài hai."))
    assert "Soạn bài kiểm tra" in text_of(client.get(f"/studio/{draft_id}").text)
    listing = text_of(client.get(f"/studio/{draft_id}/quiz").text)
    for label in ("Chọn một đáp án", "Chọn nhiều đáp án", "Đúng hay sai", "Sắp xếp các bước"):
        assert label in listing

    # One option only and none marked right: the type's own rules, in Vietnamese, nothing saved.
    bad = _question(client, draft_id, "single_choice", {"lesson": first, "prompt": "Quét mã xong cần làm gì?",
                                                         "options-0": "Kiểm tra tên người nhận",
                                                         "explanation": "Tên người nhận phải đúng."})
    assert bad.status_code == 422
    shown = text_of(bad.text)
    assert "Cần ít nhất 2 lựa chọn." in shown and "Hãy đánh dấu đúng một lựa chọn đúng." in shown
    assert "“options”" not in text_of(bad.text)
    assert 'value="Kiểm tra tên người nhận"' in bad.text  # what was typed stays
    assert _quiz(db, draft_id) is None
    assert _question(client, draft_id, "single_choice", {
        "lesson": first, "prompt": "Quét mã xong cần làm gì?", "options-0": "Bấm chuyển ngay",
        "options-1": "Kiểm tra tên người nhận", "options-2": "Gửi mã cho người quen", "right": "1",
        "explanation": "Tên người nhận phải đúng."}).status_code == 303
    assert _question(client, draft_id, "multiple_choice", {
        "lesson": second, "prompt": "Dấu hiệu lừa đảo (chọn tất cả)", "options-0": "Hối thúc chuyển tiền",
        "options-1": "Gọi từ số lạ xưng công an", "options-2": "Tổng đài ngân hàng in trên thẻ",
        "right": ["0", "1"], "scoring": "partial", "explanation": "Hai dấu hiệu đầu."}).status_code == 303
    no_truth = _question(client, draft_id, "true_false", {"lesson": second, "prompt": "Công an gọi điện lấy lời khai.",
                                                          "explanation": "Không."})
    assert no_truth.status_code == 422 and "Hãy chọn câu trên là Đúng hay Sai." in text_of(no_truth.text)
    assert "answer" not in text_of(no_truth.text)
    assert _question(client, draft_id, "true_false", {"lesson": second, "prompt": "Công an gọi điện lấy lời khai.",
                                                      "truth": "false", "explanation": "Không."}).status_code == 303
    assert _question(client, draft_id, "ordering", {"lesson": first, "prompt": "Sắp xếp các bước",
                                                    "steps-0": "Mở ứng dụng", "steps-1": "Quét mã",
                                                    "steps-2": "Kiểm tra tên", "explanation": "Theo thứ tự."}
                     ).status_code == 303
    quiz = _quiz(db, draft_id)
    assert [q["type"] for q in quiz["questions"]] == ["single_choice", "multiple_choice", "true_false", "ordering"]
    assert quiz["questions"][0]["answer"] == "b" and quiz["questions"][1]["answer"] == ["a", "b"]
    assert quiz["questions"][2]["answer"] is False
    assert [s["text"] for s in quiz["questions"][3]["steps"]] == ["Mở ứng dụng", "Quét mã", "Kiểm tra tên"]

    # Editing shows what is saved; the change is logged; publishing makes the quiz the learners'.
    edit = client.get(f"/studio/{draft_id}/quiz/1").text
    assert 'value="Kiểm tra tên người nhận"' in edit and re.search(r'value="1" checked', edit)
    assert _publish(client, draft_id).status_code == 303
    fresh(db)
    course = db.exec(select(Course).where(Course.slug == "khoa-co-bai-kiem-tra")).scalars().one()
    assert len(course.quiz["questions"]) == 4
    db.commit()
    learner = make_client()
    login(learner, make_user(db, settings, village=places.villages[0]).phone)
    assert "Bắt đầu làm bài" in text_of(learner.get("/quiz/khoa-co-bai-kiem-tra").text)
    assert "Thêm câu hỏi 4 của bài kiểm tra" in text_of(client.get(f"/studio/{draft_id}").text)


def test_a_lesson_without_a_question_stops_publishing(client, db, settings):
    _editor(client, db, settings)
    draft_id = _create(client, title="Thiếu câu hỏi")
    first = _lesson(client, draft_id, "Bài một", body("Bài một."))
    _lesson(client, draft_id, "Bài hai", body("Bài hai."))
    assert _question(client, draft_id, "true_false", {"lesson": first, "prompt": "Câu đúng.", "truth": "true",
                                                      "explanation": "Đúng."}).status_code == 303
    refused = _publish(client, draft_id)
    assert refused.status_code == 422 and "quiz.yaml" in text_of(refused.text) and "bai-hai" in text_of(refused.text)


def test_another_communes_quiz_is_not_found(client, make_client, db, settings):
    places, _ = _editor(client, db, settings)
    draft_id = _create(client, title="Khóa riêng")
    other = make_places(db, commune_name="Phường Hòa Bình", villages=("Tổ 1",))
    stranger = make_client()
    _editor(stranger, db, settings, places=other)
    assert stranger.get(f"/studio/{draft_id}/quiz").status_code == 404
    assert stranger.get(f"/studio/{draft_id}/quiz/new/true_false").status_code == 404


def test_a_plugin_type_brings_its_editor(install_plugins, make_settings, engine, db):
    install_plugins({"number_type": "tests.plugins.number_type"})
    settings = make_settings()
    with TestClient(create_app(settings), follow_redirects=False) as client:
        _editor(client, db, settings)
        draft_id = _create(client, title="Khóa có câu nhập số")
        first = _lesson(client, draft_id, "Đường dây nóng", body("Gọi 156 khi gặp lừa đảo."))
        assert "Nhập một số" in text_of(client.get(f"/studio/{draft_id}/quiz").text)
        page = client.get(f"/studio/{draft_id}/quiz/new/number").text
        assert 'name="number"' in page
        wrong = _question(client, draft_id, "number", {"lesson": first, "prompt": "Số đường dây nóng?",
                                                       "number": "một năm sáu", "explanation": "156."})
        assert wrong.status_code == 422 and "số nguyên" in text_of(wrong.text)
        assert _question(client, draft_id, "number", {"lesson": first, "prompt": "Số đường dây nóng?",
                                                      "number": "156", "explanation": "156."}).status_code == 303
        assert _quiz(db, draft_id)["questions"][0]["answer"] == 156
        assert _publish(client, draft_id).status_code == 303


def test_a_pass_mark_out_of_range_is_refused(client, db, settings):
    _editor(client, db, settings)
    draft_id = _create(client, title="Điểm đạt")
    for typed in ("0", "150", "tám mươi"):
        refused = post_form(client, f"/studio/{draft_id}/quiz", {"pass_mark": typed}, page=f"/studio/{draft_id}/quiz")
        assert refused.status_code == 422 and "từ 1 đến 100" in text_of(refused.text)
    assert _quiz(db, draft_id) is None
    assert post_form(client, f"/studio/{draft_id}/quiz", {"pass_mark": "70"},
                     page=f"/studio/{draft_id}/quiz").status_code == 303
    assert _quiz(db, draft_id)["pass_mark"] == 70
