"""The question box on a 360 px phone in Chromium, with JavaScript off: typed without marks,
answered with links, the link opens the lesson at its section."""

import pytest

from lms import paths
from lms.plugins.hoi_dap import faq, services
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, require_chromium
from tests.courses.packtools import sync_dirs

pytestmark = pytest.mark.browser


def test_a_question_typed_on_a_phone_without_javascript_opens_its_answer(live_server, app, db):
    require_chromium()
    from playwright.sync_api import sync_playwright

    sync_dirs(db, [paths.courses_dir()])
    entries, problems = faq.load_pack()
    services.sync_pack(app.state.context, entries)
    base = live_server(workers=1)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True,
                                      java_script_enabled=False, locale="vi-VN")
        page = context.new_page()
        page.goto(base + "/")
        box = page.get_by_label("Hỏi đáp về ứng dụng số")
        box.fill("tin nhan kich hoat vneid that hay gia")
        page.get_by_role("button", name="Hỏi").click()
        page.wait_for_load_state()
        assert "/hoi-dap?q=tin+nhan+kich+hoat+vneid" in page.url
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        assert page.get_by_role("heading", name="Câu trả lời").is_visible()
        first = page.locator("ol.answers li h3 a").first
        target = first.get_attribute("href")
        first.click()
        page.wait_for_load_state()
        assert page.url == base + target
        if "#" in target:
            # The section's heading is on the screen, not the top of the lesson.
            heading = page.locator(f"#{target.split('#')[1]}")
            box_top = heading.evaluate("e => e.getBoundingClientRect().top")
            assert 0 <= box_top < 740
        context.close()
        browser.close()
