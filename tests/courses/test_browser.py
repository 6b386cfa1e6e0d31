"""On a 360 px phone in real Chromium: read a lesson, mark it done, go on to the next."""

import pytest

from lms import paths
from tests.courses.packtools import sync_dirs
from tests.factories import make_places, make_user

pytestmark = pytest.mark.browser


def test_read_a_lesson_and_mark_it_done_on_a_phone(live_server, phone_page, db, settings, tmp_path):
    sync_dirs(db, [paths.courses_dir()])
    make_user(db, settings, village=make_places(db).villages[0], phone="0987123456",
                     password="mật khẩu dài 2026")
    base = live_server(workers=1)
    page = phone_page

    page.goto(f"{base}/")
    page.get_by_role("link", name="Người dân VNeID").click()
    page.wait_for_url("**/courses?audience=nguoi-dan")
    page.get_by_role("link", name="VNeID và dịch vụ công trực tuyến").click()
    page.get_by_role("link", name="Đọc bài đầu tiên").click()
    page.wait_for_url("**/courses/vneid-va-dich-vu-cong/vneid-la-gi")
    assert page.get_by_role("heading", name="VNeID là gì?").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    # Anonymous: sign in from the lesson and come straight back to it.
    page.locator("#hoan-thanh").get_by_role("link", name="đăng nhập").click()
    page.get_by_label("Số điện thoại").fill("0987 123 456")
    page.get_by_label("Mật khẩu").fill("mật khẩu dài 2026")
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/courses/vneid-va-dich-vu-cong/vneid-la-gi")

    # A plain form (the lesson page loads no script): back to the lesson, at the done box.
    page.get_by_role("button", name="Đã học xong bài này").click()
    page.get_by_text("Tốt lắm! Bạn đã học xong bài này.").wait_for()
    assert page.url.endswith("/vneid-la-gi?done=1#hoan-thanh")
    assert page.get_by_text("Đã học 1/5 bài của khóa.").is_visible()
    page.screenshot(path=str(tmp_path / "lesson-done.png"), full_page=False)

    page.get_by_role("link", name="Bài tiếp theo: Tài khoản định danh điện tử mức 1 và mức 2").click()
    page.wait_for_url("**/muc-1-va-muc-2")
    page.goto(f"{base}/courses/vneid-va-dich-vu-cong")
    assert page.get_by_role("link", name="Học tiếp: Tài khoản định danh điện tử mức 1 và mức 2").is_visible()
    assert page.get_by_text("Đã học 1/5 bài (20%)").is_visible()


def test_marking_done_works_with_javascript_off(live_server, db, settings, tmp_path):
    from playwright.sync_api import sync_playwright

    from tests.conftest import CHROMIUM, CHROMIUM_ARGS, require_chromium

    require_chromium()
    sync_dirs(db, [paths.courses_dir()])
    make_user(db, settings, village=make_places(db).villages[0], phone="0987123457",
              password="mật khẩu dài 2026")
    base = live_server(workers=1)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 360, "height": 740}, java_script_enabled=False)
        page = context.new_page()
        page.goto(f"{base}/login?next=/courses/thanh-toan-so-an-toan/quet-ma-vietqr")
        page.get_by_label("Số điện thoại").fill("0987123457")
        page.get_by_label("Mật khẩu").fill("mật khẩu dài 2026")
        page.get_by_role("button", name="Đăng nhập").click()
        page.wait_for_url("**/quet-ma-vietqr")
        page.get_by_role("button", name="Đã học xong bài này").click()
        page.wait_for_url("**/quet-ma-vietqr?done=1#hoan-thanh")
        assert page.get_by_text("Tốt lắm! Bạn đã học xong bài này.").is_visible()
        browser.close()
