"""A team member enrols an elderly resident on a 360 px phone in real Chromium."""

import pytest

from tests.teams.teamtools import team_setup

pytestmark = pytest.mark.browser


def test_assisted_enrolment_on_a_phone(live_server, phone_page, client, db, settings, make_client):
    setup = team_setup(client, db, settings, make_client)
    base = live_server(workers=1)
    page = phone_page
    page.goto(f"{base}/login?next=/teams")
    page.get_by_label("Số điện thoại").fill(setup.member.phone)
    page.get_by_label("Mật khẩu").fill("mật khẩu dài 2026")
    page.get_by_role("button", name="Đăng nhập").click()
    page.get_by_role("link", name="Tổ công nghệ số thôn Đông").click()
    page.get_by_role("link", name="Ghi danh người dân").click()
    # The click starts a navigation; measuring before the new document exists reads null.
    page.wait_for_url("**/residents/new")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.get_by_label("Họ và tên").fill("Bùi Thị Gái")
    page.get_by_label("Thôn/tổ dân phố").select_option(label="Thôn Đoài")
    page.get_by_label("Năm sinh").fill("1946")
    page.get_by_label("xác nhận người dân đã nghe và đồng ý").check()
    page.get_by_role("button", name="Ghi danh").click()
    page.wait_for_url("**/residents/*?new=1")
    assert page.get_by_role("heading", name="Bùi Thị Gái").is_visible()
    assert page.get_by_text("do Đoàn Viên Thanh xác nhận").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.get_by_role("button", name="In thẻ đăng nhập").click()
    assert page.locator(".card-print svg").is_visible()
    assert page.get_by_text("Bùi Thị Gái").is_visible()
