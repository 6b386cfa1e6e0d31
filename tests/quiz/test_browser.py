"""Take a quiz on a 360 px phone in real Chromium and read the result."""

import pytest

from tests.factories import make_places, make_user
from tests.quiz.quiztools import latest_attempt, quiz_course

pytestmark = pytest.mark.browser


def test_take_a_quiz_on_a_phone(live_server, phone_page, db, settings, tmp_path):
    slug = quiz_course(db, tmp_path)
    user = make_user(db, settings, village=make_places(db).villages[0], phone="0987111222",
                     password="mật khẩu dài 2026")
    base = live_server(workers=1)
    page = phone_page
    page.goto(f"{base}/login?next=/quiz/{slug}")
    page.get_by_label("Số điện thoại").fill("0987111222")
    page.get_by_label("Mật khẩu").fill("mật khẩu dài 2026")
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"**/quiz/{slug}")
    page.get_by_role("button", name="Bắt đầu làm bài").click()
    page.wait_for_url("**/attempts/*")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    attempt = latest_attempt(db, user.id)
    for index, question in enumerate(attempt.questions):
        config, shown = question["config"], question["shown"]
        box = page.locator(f"#cau-{index + 1}")
        if config["type"] == "single_choice":
            right = next(o for o in shown["options"] if o["id"] == config["answer"])
            box.get_by_label(right["text"]).check()
        elif config["type"] == "multiple_choice":
            for option in shown["options"]:
                if option["id"] in config["answer"]:
                    box.get_by_label(option["text"]).check()
        elif config["type"] == "true_false":
            box.get_by_label("Đúng" if config["answer"] else "Sai", exact=True).check()
        else:
            order = [s["id"] for s in config["steps"]]
            for step in shown["steps"]:
                box.get_by_label(f"Thứ tự của bước: {step['text']}").select_option(
                    str(order.index(step["id"]) + 1))
    page.get_by_role("button", name="Lưu để làm tiếp sau").click()
    page.get_by_text("Đã lưu câu trả lời lúc").wait_for()
    page.get_by_role("button", name="Nộp bài").click()
    page.wait_for_url("**/attempts/*")
    assert page.get_by_role("heading", name="Kết quả bài kiểm tra").is_visible()
    assert page.get_by_text("100% — Đạt (cần 75%).").is_visible()
    assert page.get_by_text("Luôn kiểm tra tên trước khi xác nhận.").is_visible()
    page.screenshot(path=str(tmp_path / "quiz-result.png"), full_page=True)
