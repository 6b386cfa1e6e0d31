"""On a 360 px phone in Chromium without JavaScript: a staff member writes and publishes a news
item with a picture; a resident finds it on the home page and reads it."""

import io

import pytest
from PIL import Image

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, require_chromium
from tests.factories import PASSWORD, make_places, make_user

pytestmark = pytest.mark.browser


def test_staff_publish_news_on_a_phone_and_a_resident_reads_it(live_server, db, settings, tmp_path):
    require_chromium()
    from playwright.sync_api import sync_playwright

    places = make_places(db)
    staff = make_user(db, settings, role="staff", commune=places.commune)
    picture = tmp_path / "ra-mat.png"
    out = io.BytesIO()
    Image.new("RGB", (1200, 800), (20, 110, 60)).save(out, "PNG")
    picture.write_bytes(out.getvalue())
    base = live_server(workers=1)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        options = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "java_script_enabled": False,
                   "locale": "vi-VN"}
        context = browser.new_context(**options)
        page = context.new_page()
        page.goto(f"{base}/login?next=/staff/tin-tuc/new")
        page.get_by_label("Số điện thoại").fill(staff.phone)
        page.get_by_label("Mật khẩu").fill(PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()
        page.wait_for_url("**/staff/tin-tuc/new")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.get_by_label("Tiêu đề").fill("Ra mắt Tổ công nghệ số cộng đồng thôn Đông")
        page.get_by_label("Nội dung").fill("Tổ gồm **5 thành viên**, hướng dẫn bà con cài VNeID.\n\n"
                                           "- Tối thứ Ba\n- Tối thứ Năm")
        page.get_by_label("Ảnh (không bắt buộc)").set_input_files(str(picture))
        page.get_by_label("Mô tả ảnh cho người không xem được ảnh").fill("Tổ công nghệ số ra mắt tại nhà văn hóa")
        page.get_by_role("button", name="Lưu bản nháp").click()
        page.wait_for_url("**/staff/tin-tuc/*?saved=1")
        assert page.get_by_text("Tin vẫn là bản nháp").is_visible()
        # The picture kept is shown small, inside the screen, above the buttons.
        assert page.locator(".thumb img").evaluate("i => i.getBoundingClientRect().width") <= 200
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.get_by_role("button", name="Đăng tin").click()
        page.wait_for_url("**?saved=published")
        context.close()

        reader = browser.new_context(**options)
        page = reader.new_page()
        page.goto(base + "/")
        page.get_by_role("link", name="Ra mắt Tổ công nghệ số cộng đồng thôn Đông").click()
        page.wait_for_url("**/tin-tuc/*")
        assert page.get_by_role("heading", name="Ra mắt Tổ công nghệ số cộng đồng thôn Đông").is_visible()
        assert page.get_by_text("5 thành viên").is_visible()
        image = page.get_by_role("img", name="Tổ công nghệ số ra mắt tại nhà văn hóa")
        assert image.evaluate("i => i.complete && i.naturalWidth > 0")
        assert image.evaluate("i => i.getBoundingClientRect().width") <= 360
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.goto(base + "/tin-tuc")
        assert page.get_by_role("link", name="Ra mắt Tổ công nghệ số cộng đồng thôn Đông").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        reader.close()
        browser.close()
