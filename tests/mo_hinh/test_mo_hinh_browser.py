"""The showcase on a 360 px phone in Chromium with JavaScript off: the list and a model's page fit
the screen, with its photo, results and consented contact in view."""

import pytest

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, require_chromium
from tests.mo_hinh.conftest import SUBMISSION, photo_bytes, signed_in, submit

pytestmark = pytest.mark.browser


def _fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{page.url} scrolls sideways ({width} px)"


def test_the_showcase_and_a_model_on_a_phone(live_server, people, make_client):
    require_chromium()
    from playwright.sync_api import sync_playwright

    staff = signed_in(make_client, people.staff)
    long_words = {"title": "Ứng dụng chuyển đổi số trong quản lý hợp tác xã nông nghiệp Minh Châu "
                           "https://hoptacxa-minhchau.example.vn/san-pham-nong-san-sach",
                  "publish": "on", "show_contact": "on"}
    assert submit(staff, long_words, photos=[("photo_1", photo_bytes(size=(1600, 900)))],
                  path="/mo-hinh-duyet/moi").status_code == 303
    assert submit(staff, {"title": "Sổ tay điện tử của Hội Liên hiệp Phụ nữ", "publish": "on"},
                  path="/mo-hinh-duyet/moi").status_code == 303
    base = live_server(workers=1)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True,
                                      java_script_enabled=False, locale="vi-VN")
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(base + "/mo-hinh")
        _fits(page)
        assert page.get_by_role("heading", name="Mô hình tiêu biểu", exact=True).is_visible()
        assert page.get_by_role("link", name="Sổ tay điện tử của Hội Liên hiệp Phụ nữ").is_visible()
        cover = page.locator("article img").first
        assert cover.is_visible() and cover.evaluate("e => e.getBoundingClientRect().right") <= 360

        # The field filter works as plain links.
        page.get_by_role("link", name="Kinh tế số").click()
        page.wait_for_url("**/mo-hinh?linh-vuc=kinh-te-so")
        _fits(page)

        page.get_by_role("link", name=long_words["title"]).click()
        page.wait_for_url("**/mo-hinh/ung-dung-chuyen-doi-so-*")
        _fits(page)
        assert page.get_by_role("heading", name="Kết quả đạt được").is_visible()
        assert page.get_by_text(SUBMISSION["results"]).is_visible()
        photo = page.locator("article.news img").first
        photo.scroll_into_view_if_needed()
        assert photo.is_visible()
        box = photo.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360
        assert photo.evaluate("e => e.complete && e.naturalWidth > 0")
        assert page.get_by_role("link", name="0912345678").is_visible()
        context.close()
        browser.close()
