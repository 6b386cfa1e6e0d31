"""The dashboard on a 360 px phone in real Chromium: readable, no sideways scrolling, filters work."""

import pytest

from tests.factories import PASSWORD
from tests.stats.statstools import build_town

pytestmark = pytest.mark.browser


def test_dashboard_on_a_phone(live_server, phone_page, client, make_client, db, settings, tmp_path):
    town = build_town(client, make_client, db, settings, tmp_path)
    base = live_server(workers=1)
    page = phone_page
    page.goto(f"{base}/login?next=/stats")
    page.get_by_label("Số điện thoại").fill(town.staff.phone)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/stats")
    assert page.get_by_role("heading", name="Thống kê phong trào").is_visible()
    learners = page.locator('[data-figure="learners"] .value')
    assert learners.inner_text() == "5"
    # Nothing is wider than the phone: wide tables scroll inside their own box.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    chart = page.locator("#bang-audience ~ figure svg.chart")
    assert chart.is_visible()
    box = chart.bounding_box()
    assert box["width"] <= 344 and box["height"] > 100
    assert page.get_by_role("region", name="Bảng số liệu: Theo nhóm đối tượng").is_visible()
    page.screenshot(path=str(tmp_path / "stats-phone.png"), full_page=True)

    # With htmx the results are swapped in place and the URL keeps the filters (bookmarkable).
    page.get_by_label("Nhóm đối tượng", exact=True).select_option("can-bo")
    page.get_by_role("button", name="Xem số liệu").click()
    page.wait_for_url("**/stats?*audience=can-bo*")
    page.wait_for_function("document.querySelector('[data-figure=\"learners\"] .value').textContent === '2'")
    assert page.locator('[data-figure="quiz.pass_rate"] .value').inner_text() == "50%"
    assert page.get_by_role("heading", name="Thống kê phong trào").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.reload()
    assert page.locator('[data-figure="learners"] .value').inner_text() == "2"

    page.get_by_role("link", name="Bản in báo cáo").click()
    page.wait_for_url("**/stats/report?*")
    assert page.get_by_text("Kết quả thực hiện phong trào Bình dân học vụ số").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
