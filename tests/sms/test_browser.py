"""Forgot password on a 360 px phone without JavaScript, the code coming through the real
server's HTTP gateway to a local provider."""

import pytest

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, require_chromium
from tests.factories import make_user
from tests.sms.provider import start_provider

pytestmark = pytest.mark.browser


def _fits_the_screen(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    small = page.evaluate("""() => [...document.querySelectorAll('main button, main input:not([type=hidden])')]
        .filter(el => el.getBoundingClientRect().height < 44).map(el => el.outerHTML.slice(0, 80))""")
    assert small == [], small


def test_forgot_password_on_a_phone_without_javascript(live_server, db, settings):
    require_chromium()
    from playwright.sync_api import sync_playwright

    provider, server = start_provider()
    user = make_user(db, settings, phone="0912345678")
    base = live_server(workers=1, LMS_SMS_HTTP_URL=f"{provider.url}/send",
                       LMS_SMS_HTTP_AUTH_HEADER="Authorization: Bearer k")
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True,
                                          java_script_enabled=False, locale="vi-VN")
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.goto(f"{base}/login")
            page.get_by_role("link", name="Nhận mã qua tin nhắn").click()
            page.wait_for_url("**/forgot")
            _fits_the_screen(page)
            page.get_by_label("Số điện thoại").fill("0912 345 678")
            page.get_by_role("button", name="Gửi mã").click()
            page.get_by_text("Nếu số này có tài khoản").wait_for()
            _fits_the_screen(page)
            [code] = provider.codes()
            page.get_by_label("Mã gồm 6 chữ số").fill(code)
            page.get_by_role("button", name="Xác nhận mã").click()
            page.wait_for_url("**/password/*")
            page.get_by_label("Mật khẩu mới", exact=True).fill("mật khẩu mới của tôi 2027")
            page.get_by_label("Nhập lại mật khẩu mới").fill("mật khẩu mới của tôi 2027")
            page.get_by_role("button", name="Đặt mật khẩu và vào học").click()
            page.wait_for_url("**/account?password_set=1")
            assert user.full_name in page.content()
            context.close()
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
