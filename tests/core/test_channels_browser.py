"""In Chromium: the widget shows inside a page of another origin (and an ordinary page does not),
and the commune page reads on a 360 px phone."""

import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lms.db import utcnow
from lms.plugins.events.models import Event
from lms.plugins.tin_tuc.models import NewsItem
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, require_chromium
from tests.factories import make_places

pytestmark = pytest.mark.browser


@pytest.fixture
def commune(db):
    places = make_places(db)
    start = utcnow() + timedelta(days=2)
    db.add(Event(code="AB12CD34", commune_id=places.commune.id, title="Hướng dẫn thanh toán số an toàn",
                 kind="huong-dan", starts_at=start, ends_at=start + timedelta(hours=2),
                 place_text="Nhà văn hóa thôn Đông"))
    db.add(NewsItem(commune_id=places.commune.id, title="Ra mắt Tổ công nghệ số cộng đồng thôn Đông",
                    body_md="Tổ gồm 5 thành viên.", body_html="<p>Tổ gồm 5 thành viên.</p>", status="published",
                    published_at=utcnow()))
    db.commit()
    return places.commune


@pytest.fixture
def portal():
    """The commune portal: another origin (localhost, not 127.0.0.1) serving one page."""
    pages: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the standard library's name
            body = pages.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield pages, f"http://localhost:{server.server_address[1]}"
    server.shutdown()


def _framed(base: str, src: str) -> str:
    return ('<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>Cổng thông tin xã</title></head>'
            f'<body><h1>Cổng thông tin điện tử xã</h1><iframe id="w" src="{base}{src}" width="360" height="480">'
            '</iframe></body></html>')


def test_the_widget_shows_inside_the_portal_and_an_ordinary_page_does_not(live_server, commune, portal):
    require_chromium()
    from playwright.sync_api import sync_playwright

    pages, origin = portal
    base = live_server(workers=1)
    pages["/widget.html"] = _framed(base, f"/xa/{commune.id}/widget").encode()
    pages["/home.html"] = _framed(base, "/").encode()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, locale="vi-VN")
        page = context.new_page()
        page.goto(origin + "/widget.html")
        frame = page.frame_locator("#w")
        link = frame.get_by_role("link", name="Hướng dẫn thanh toán số an toàn")
        link.wait_for(timeout=10_000)
        assert link.get_attribute("href") == f"{base}/e/AB12CD34"
        assert frame.get_by_text("Nhà văn hóa thôn Đông").is_visible()
        # The widget's own document set no cookie in the browser.
        assert context.cookies(base) == []

        blocked: list[str] = []
        page.on("console", lambda message: blocked.append(message.text))
        page.goto(origin + "/home.html")
        page.wait_for_timeout(1500)
        home_frame = page.frame_locator("#w")
        assert home_frame.get_by_text("Học kỹ năng số, từng bước một").count() == 0
        assert any("frame-ancestors" in text or "X-Frame-Options" in text for text in blocked), blocked
        context.close()
        browser.close()


def test_the_commune_page_reads_on_a_phone_without_javascript(live_server, commune):
    require_chromium()
    from playwright.sync_api import sync_playwright

    base = live_server(workers=1)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True,
                                      java_script_enabled=False, locale="vi-VN")
        page = context.new_page()
        page.goto(f"{base}/xa/{commune.id}")
        assert page.get_by_role("heading", name="Bình dân học vụ số · Xã Minh Châu").is_visible()
        assert page.get_by_role("link", name="Ra mắt Tổ công nghệ số cộng đồng thôn Đông").is_visible()
        page.get_by_text("Mã nhúng khung").click()
        assert page.locator("pre.embed-code").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.get_by_role("link", name="Hướng dẫn thanh toán số an toàn").click()
        page.wait_for_url(f"{base}/e/AB12CD34")
        context.close()
        browser.close()
