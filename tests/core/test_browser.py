"""A resident signs up, logs out and logs in on a 360 px phone, in real Chromium."""

import pytest

from tests.factories import PASSWORD, make_places

pytestmark = pytest.mark.browser


def _fits_the_screen(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    font = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert font >= 16
    small = page.evaluate("""() => [...document.querySelectorAll(
        'main button, main .btn, main input:not([type=hidden]), main select')]
        .map(el => el.closest('label') || el)  // a tick box is tapped through its label
        .filter(el => el.getBoundingClientRect().height < 44)
        .map(el => el.outerHTML.slice(0, 80))""")
    assert small == [], small


def test_sign_up_log_out_log_in_on_a_phone(live_server, phone_page, db, tmp_path):
    make_places(db)
    base = live_server(workers=1)
    page = phone_page
    page.goto(f"{base}/")
    page.get_by_role("link", name="Đăng ký học miễn phí").click()
    page.wait_for_url("**/signup")
    _fits_the_screen(page)

    page.get_by_label("Họ và tên").fill("Nguyễn Thị Hồng Nhung")
    page.get_by_label("Số điện thoại di động").fill("0912 345 678")
    page.get_by_label("Thôn / tổ dân phố nơi bạn sống").select_option(label="Thôn Đoài")
    page.get_by_label("Người dân").check()
    page.get_by_label("Năm sinh").fill("1962")
    page.get_by_label("Mật khẩu", exact=True).fill("ngắn")
    page.get_by_label("Nhập lại mật khẩu").fill("ngắn")
    page.get_by_role("button", name="Tạo tài khoản").click()

    # Refused: the reasons are shown and what was typed is still there.
    assert page.get_by_text("Mật khẩu cần ít nhất 8 ký tự.").is_visible()
    assert page.get_by_text("Bạn cần đồng ý").is_visible()
    assert page.get_by_label("Họ và tên").input_value() == "Nguyễn Thị Hồng Nhung"
    _fits_the_screen(page)

    page.get_by_label("Mật khẩu", exact=True).fill(PASSWORD)
    page.get_by_label("Nhập lại mật khẩu").fill(PASSWORD)
    page.get_by_label("Tôi đã đọc và đồng ý").check()
    page.get_by_role("button", name="Tạo tài khoản").click()
    page.wait_for_url("**/account?welcome=1")
    assert page.get_by_text("Chào mừng Nguyễn Thị Hồng Nhung!").is_visible()
    assert page.get_by_text("Thôn Đoài").is_visible()
    page.screenshot(path=str(tmp_path / "account.png"), full_page=True)

    page.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_url(f"{base}/")
    assert page.get_by_role("link", name="Đăng nhập").first.is_visible()

    page.goto(f"{base}/account")
    page.wait_for_url("**/login?next=/account")
    page.get_by_label("Số điện thoại").fill("+84 912 345 678")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/account")
    assert page.get_by_role("heading", name="Tài khoản của tôi").is_visible()
    assert page.get_by_text("0912345678").is_visible()
