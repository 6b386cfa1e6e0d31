"""Share buttons on the public event and news pages: Facebook's share page as a plain link, the
address to copy, the phone's share sheet only where the browser has one; the CSP allows the
buttons' script by its hash."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from lms import offline
from lms.core.share_buttons import SHARE_SCRIPT, share_script_tag
from lms.db import utcnow
from lms.plugins.tin_tuc.models import NewsItem
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, require_chromium
from tests.events.eventtools import staff_with_event
from tests.factories import make_places


def _share(page: str) -> str:
    return re.search(r'<section class="share".*?</section>', page, re.S).group(0)


def test_the_event_page_shares_its_own_address(client, db, settings, make_client):
    _, _, event = staff_with_event(client, db, settings)
    response = make_client().get(f"/e/{event.code}")
    address = f"{settings.base_url.rstrip('/')}/e/{event.code}"
    section = _share(response.text)
    facebook = re.search(r'href="(https://www\.facebook\.com/sharer/sharer\.php\?u=[^"]+)"', section).group(1)
    assert parse_qs(urlsplit(facebook.replace("&amp;", "&")).query)["u"] == [address]
    assert f'value="{address}" readonly' in section and f'data-url="{address}"' in section
    # Buttons that need a script are hidden until the script finds what they need.
    assert re.search(r'<button[^>]*share-native[^>]*hidden', section)
    assert str(share_script_tag()) in response.text
    assert offline.script_hash(SHARE_SCRIPT) in response.headers["content-security-policy"]


def test_a_news_item_shares_its_address(client, db):
    places = make_places(db)
    item = NewsItem(commune_id=places.commune.id, title="Ra mắt Tổ công nghệ số", body_md="x", body_html="x",
                    status="published", published_at=utcnow())
    db.add(item)
    db.commit()
    section = _share(client.get(f"/tin-tuc/{item.id}").text)
    assert f'/tin-tuc/{item.id}" readonly' in section and 'data-title="Ra mắt Tổ công nghệ số"' in section


@pytest.mark.browser
def test_on_a_phone_the_share_sheet_and_copy_appear_with_javascript_and_the_address_without(
        live_server, client, db, settings):
    require_chromium()
    from playwright.sync_api import sync_playwright

    _, _, event = staff_with_event(client, db, settings)
    base = live_server(workers=1)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for scripts in (True, False):
            context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True,
                                          java_script_enabled=scripts, locale="vi-VN")
            if scripts:
                context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda m, seen=errors: seen.append(m.text) if m.type == "error" else None)
            page.goto(f"{base}/e/{event.code}")
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
            assert page.get_by_role("link", name="Chia sẻ lên Facebook").is_visible()
            assert page.get_by_label("Hoặc sao chép đường dẫn rồi dán vào Zalo:").input_value() == \
                f"{base}/e/{event.code}"
            copy = page.get_by_role("button", name="Sao chép liên kết")
            if scripts:
                # 127.0.0.1 is a secure context: the clipboard is there.
                copy.click()
                assert page.get_by_role("button", name="Đã sao chép").is_visible()
                assert page.evaluate("navigator.clipboard.readText()") == f"{base}/e/{event.code}"
                assert not [e for e in errors if "Content Security Policy" in e], errors
            else:
                assert copy.count() == 0 or not copy.is_visible()
            context.close()
        browser.close()
