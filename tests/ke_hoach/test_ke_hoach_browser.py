"""The plan follow-up on a 360 px phone in Chromium: import the example, open the weekly
bulletin, attach a link, mark the launch ceremony done, read the report; nothing wider than the screen."""

import pytest

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, require_chromium
from tests.factories import PASSWORD, make_places, make_user

pytestmark = pytest.mark.browser


def test_staff_follow_the_plan_on_a_phone(live_server, db, settings):
    require_chromium()
    from playwright.sync_api import sync_playwright

    places = make_places(db)
    staff = make_user(db, settings, role="staff", commune=places.commune, name="Trần Văn Phòng")
    base = live_server(workers=1)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, locale="vi-VN")
        page = context.new_page()
        page.set_default_timeout(15_000)

        def fits() -> bool:
            return page.evaluate("document.documentElement.scrollWidth") <= 360

        page.goto(base + "/login")
        page.get_by_label("Số điện thoại").fill(staff.phone)
        page.get_by_label("Mật khẩu").fill(PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()
        page.wait_for_url(lambda url: "/login" not in url)
        page.goto(base + "/staff")
        page.get_by_role("link", name="Kế hoạch tuyên truyền").click()
        page.wait_for_url(base + "/staff/ke-hoach")
        page.get_by_role("button", name="Nhập kế hoạch mẫu vào Xã Minh Châu").click()
        page.wait_for_url("**/staff/ke-hoach/*?da=nhap&them=24")
        assert page.get_by_text("Đã nhập kế hoạch mẫu: thêm 24 nhiệm vụ").is_visible() and fits()

        page.get_by_role("link", name="II.2.1. Đăng tải tin tức", exact=False).click()
        page.wait_for_url("**/staff/ke-hoach/viec/*")
        assert fits()
        page.get_by_label("Địa chỉ trang (bắt đầu bằng https://)").fill("https://namsach.vn/ban-tin-tuan")
        page.get_by_label("Tên minh chứng").fill("Bản tin phát thanh tuần này")
        page.get_by_role("button", name="Gắn liên kết").click()
        page.wait_for_url("**?da=minh-chung#minh-chung")
        assert page.get_by_text("Đã gắn minh chứng.").is_visible()
        assert page.get_by_role("link", name="Bản tin phát thanh tuần này").is_visible()

        page.get_by_role("link", name="← Kế hoạch tuyên truyền", exact=False).click()
        page.wait_for_url("**/staff/ke-hoach/*")
        page.get_by_role("link", name="Lập báo cáo").click()
        page.wait_for_url("**/bao-cao")
        page.get_by_role("button", name="Xem báo cáo để in").click()
        page.wait_for_url("**/bao-cao?ky=thang*")
        assert page.get_by_role("heading", name="BÁO CÁO Kết quả thực hiện kế hoạch tuyên truyền").is_visible()
        assert page.get_by_text("Bản tin phát thanh tuần này", exact=False).first.is_visible()
        assert fits()
        context.close()
        browser.close()
