"""At 360×740 in real Chromium: open /e/<code>, register, see the ticket; the ticket and
poster QR codes decode, with a real decoder, to the right addresses."""

import io

import pytest
import zxingcpp
from PIL import Image

from tests.events.eventtools import staff_with_event

pytestmark = pytest.mark.browser


def _decode(png: bytes) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def test_register_on_a_phone_and_scan_the_codes(live_server, phone_page, client, db, settings, tmp_path):
    places, staff, event = staff_with_event(client, db, settings)
    base = live_server(workers=1)
    page = phone_page
    page.goto(f"{base}/e/{event.code.lower()}")
    page.wait_for_url(f"**/e/{event.code}")
    assert page.get_by_role("heading", name="Lễ phát động Bình dân học vụ số").is_visible()
    # No script file: only the line that starts the service worker after load.
    assert page.evaluate("Array.from(document.scripts).filter(s => s.src).length") == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.get_by_label("Họ và tên").fill("Hoàng Văn Thái")
    page.get_by_label("Số điện thoại").fill("0903 456 789")
    page.get_by_label("Thôn / tổ dân phố").select_option(label="Thôn Đoài")
    page.get_by_label("Người dân").check()
    page.get_by_label("Tôi đồng ý.").check()
    page.get_by_role("button", name="Đăng ký tham dự").click()
    page.wait_for_url("**/t/**")
    assert page.get_by_text("Đăng ký thành công!").is_visible()
    assert page.get_by_text("Hoàng Văn Thái").is_visible()
    ticket_url = page.url.split("?")[0]
    assert _decode(page.locator(".ticket-qr").screenshot()) == [ticket_url]

    # The poster, printed from the staff area, points at the short registration URL.
    page.goto(f"{base}/login?next=/staff/events/{event.id}/poster")
    page.get_by_label("Số điện thoại").fill(staff.phone)
    page.get_by_label("Mật khẩu").fill("mật khẩu dài 2026")
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/poster")
    page.set_viewport_size({"width": 800, "height": 1100})
    assert _decode(page.locator(".qr").screenshot()) == [f"{base}/e/{event.code}"]
    assert page.get_by_text(f"Mã sự kiện: {event.code}").is_visible()


def test_the_hall_screen_moves_on_by_itself_and_its_codes_scan(live_server, client, db, settings):
    from playwright.sync_api import sync_playwright

    from lms.db import utcnow
    from lms.plugins.tin_tuc.models import NewsItem
    from tests.conftest import CHROMIUM, CHROMIUM_ARGS, require_chromium

    require_chromium()
    places, staff, event = staff_with_event(client, db, settings)
    news = NewsItem(commune_id=places.commune.id, title="Ra mắt Tổ công nghệ số thôn Đông", body_md="x",
                    body_html="x", status="published", published_at=utcnow())
    db.add(news)
    db.commit()
    base = live_server(workers=1)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # The hall's screen: a landscape display, and no JavaScript needed to advance.
        context = browser.new_context(viewport={"width": 1280, "height": 720}, java_script_enabled=False)
        page = context.new_page()
        page.goto(f"{base}/login?next=/staff/events/{event.id}/slideshow%3Fgiay%3D5")
        page.get_by_label("Số điện thoại").fill(staff.phone)
        page.get_by_label("Mật khẩu").fill("mật khẩu dài 2026")
        page.get_by_role("button", name="Đăng nhập").click()
        page.wait_for_url(f"**/staff/events/{event.id}/slideshow?giay=5")
        assert _decode(page.locator(".qr").screenshot()) == [f"{base}/e/{event.code}"]
        page.wait_for_url("**/slideshow?slide=1&giay=5", timeout=9_000)
        assert page.get_by_role("heading", name="Ra mắt Tổ công nghệ số thôn Đông").is_visible()
        assert _decode(page.locator(".qr").screenshot()) == [f"{base}/tin-tuc/{news.id}"]
        context.close()
        browser.close()
