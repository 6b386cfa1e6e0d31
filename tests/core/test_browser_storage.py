"""Nothing personal stays in the browser: htmx keeps no page history in sessionStorage, and
logging out clears what the site stored (a shared phone, a commune office's computer)."""

import pytest

from tests.factories import PASSWORD, make_places, make_user

pytestmark = pytest.mark.browser


def test_a_staff_journey_leaves_no_name_or_phone_in_storage(live_server, phone_page, db, settings):
    places = make_places(db)
    staff = make_user(db, settings, role="staff", commune=places.commune, name="Cán Bộ Lưu Trữ")
    resident = make_user(db, settings, village=places.villages[0], name="Đinh Thị Riêng Tư", phone="0933444555")
    base = live_server(workers=1)
    page = phone_page
    page.goto(f"{base}/login")
    page.get_by_label("Số điện thoại").fill(staff.phone)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()
    # The users list searches with htmx and pushes the URL: the kind of page htmx used to cache.
    page.goto(f"{base}/staff/users?commune={places.commune.id}")
    with page.expect_response(lambda r: "/staff/users" in r.url and r.request.headers.get("hx-request")):
        page.get_by_label("Tìm theo tên hoặc 3+ số cuối điện thoại").fill("Riêng")
    page.get_by_text("Đinh Thị Riêng Tư").first.wait_for()
    page.goto(f"{base}/staff/users/{resident.id}")
    page.go_back()
    page.wait_for_load_state()

    def stored() -> str:
        return page.evaluate("""() => JSON.stringify([Object.entries(sessionStorage), Object.entries(localStorage)])""")

    assert "Riêng Tư" not in stored() and "0933444555" not in stored()
    assert "htmx-history-cache" not in stored()
    page.evaluate("sessionStorage.setItem('left-by-a-script', 'Đinh Thị Riêng Tư')")
    page.goto(f"{base}/account")
    page.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_load_state()
    # Cleared at log-out (Clear-Site-Data); htmx then notes only the path of the page it is on.
    keys = page.evaluate("[Object.keys(sessionStorage), Object.keys(localStorage)]")
    assert keys[1] == [] and set(keys[0]) <= {"htmx-current-path-for-history"}
    assert "Riêng Tư" not in stored()
