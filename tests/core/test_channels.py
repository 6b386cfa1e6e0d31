"""The commune's channels: Atom feeds a feed reader accepts, the commune page that announces
them, and the widget another site frames (small, no cookies, no scripts, links open on top)."""

from datetime import timedelta

import feedparser
import pytest
from lxml import etree
from sqlalchemy import select

from lms.db import utcnow
from lms.plugins.courses.models import Course
from lms.plugins.events.models import Event
from lms.plugins.tin_tuc.models import NewsItem
from lms.settings import Settings
from tests.factories import make_places, text_of

ATOM = "{http://www.w3.org/2005/Atom}"
# Links in feeds and the widget use the site's own address (LMS_BASE_URL), not the request's.
BASE = Settings.model_fields["base_url"].default.rstrip("/")


@pytest.fixture
def channels(db):
    here = make_places(db)
    there = make_places(db, commune_name="Phường Hòa Bình", villages=("Tổ 1",))
    now = utcnow()
    db.add(NewsItem(commune_id=here.commune.id, title="Ra mắt Tổ công nghệ số cộng đồng thôn Đông",
                    summary="Tổ hướng dẫn bà con cài VNeID.", body_md="Nội dung", body_html="<p>Nội dung</p>",
                    status="published", published_at=now - timedelta(days=1), updated_at=now - timedelta(days=1)))
    db.add(NewsItem(commune_id=here.commune.id, title="Bản nháp chưa đăng", body_md="x", body_html="x"))
    db.add(NewsItem(commune_id=there.commune.id, title="Tin của phường Hòa Bình", body_md="Ở phường",
                    body_html="<p>Ở phường</p>", status="published", published_at=now, updated_at=now))
    db.add(NewsItem(commune_id=None, title="Thành phố phát động Bình dân học vụ số", body_md="Toàn thành phố",
                    body_html="<p>Toàn thành phố</p>", status="published", published_at=now, updated_at=now))
    start = now + timedelta(days=2)
    db.add(Event(code="AB12CD34", commune_id=here.commune.id, title="Hướng dẫn thanh toán số an toàn",
                 kind="huong-dan", starts_at=start, ends_at=start + timedelta(hours=2), place_text="Nhà văn hóa"))
    db.add(Event(code="PAST0001", commune_id=here.commune.id, title="Buổi đã qua", kind="huong-dan",
                 starts_at=now - timedelta(days=3), ends_at=now - timedelta(days=3, hours=-2)))
    db.add(Course(slug="vneid-co-ban", title="VNeID cho người mới", summary="Cài và dùng VNeID."))
    db.add(Course(slug="khoa-cua-phuong", title="Khóa riêng của phường", summary="x", commune_id=there.commune.id))
    db.add(Course(slug="khoa-cu", title="Khóa đã ngừng", summary="x", retired=True))
    db.commit()
    return here, there


def _parsed(response):
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed


def test_a_communes_feed_is_valid_atom_with_its_news_events_and_courses(client, channels):
    here, _ = channels
    response = client.get(f"/xa/{here.commune.id}/feed.atom")
    feed = _parsed(response)
    titles = [entry.title for entry in feed.entries]
    assert "Ra mắt Tổ công nghệ số cộng đồng thôn Đông" in titles
    assert "Thành phố phát động Bình dân học vụ số" in titles  # the installation's news too
    assert "Hướng dẫn thanh toán số an toàn" in titles and "VNeID cho người mới" in titles
    for hidden in ("Bản nháp chưa đăng", "Tin của phường Hòa Bình", "Buổi đã qua", "Khóa riêng của phường",
                   "Khóa đã ngừng"):
        assert hidden not in titles
    assert feed.feed.title == "Xã Minh Châu · Bình dân học vụ số"
    links = {link.rel: link.href for link in feed.feed.links}
    assert links["self"] == f"{BASE}/xa/{here.commune.id}/feed.atom"
    event = next(entry for entry in feed.entries if entry.title == "Hướng dẫn thanh toán số an toàn")
    assert event.link == f"{BASE}/e/AB12CD34" and event.id == f"{BASE}/e/AB12CD34"
    assert event.tags[0].term == "event" and event.tags[0].label == "Sự kiện"
    assert "Nhà văn hóa" in event.summary
    # Every entry has what RFC 4287 requires of it, read from the XML itself.
    root = etree.fromstring(response.content)
    assert root.tag == f"{ATOM}feed" and root.find(f"{ATOM}author/{ATOM}name") is not None
    for entry in root.findall(f"{ATOM}entry"):
        for required in ("id", "title", "updated"):
            assert entry.find(f"{ATOM}{required}") is not None and entry.find(f"{ATOM}{required}").text
    # Newest first.
    updated = [entry.updated_parsed for entry in feed.entries]
    assert updated == sorted(updated, reverse=True)


def test_the_installation_feed_has_every_communes_published_items(client, channels):
    feed = _parsed(client.get("/feed.atom"))
    titles = {entry.title for entry in feed.entries}
    assert {"Ra mắt Tổ công nghệ số cộng đồng thôn Đông", "Tin của phường Hòa Bình",
            "Thành phố phát động Bình dân học vụ số"} <= titles
    assert "Bản nháp chưa đăng" not in titles


def test_an_unknown_commune_has_no_feed_page_or_widget(client, channels):
    here, _ = channels
    for path in ("/xa/999999/feed.atom", "/xa/999999", "/xa/999999/widget", f"/xa/{here.villages[0].id}",
                 "/xa/99999999999"):
        assert client.get(path).status_code == 404, path


def test_home_and_commune_pages_announce_their_feeds(client, channels):
    here, _ = channels
    home = client.get("/").text
    assert home.count('type="application/atom+xml"') == 1 and 'href="/feed.atom"' in home
    page = client.get(f"/xa/{here.commune.id}")
    assert f'<link rel="alternate" type="application/atom+xml" title="Xã Minh Châu: tin tức, khóa học, sự kiện" ' \
           f'href="/xa/{here.commune.id}/feed.atom">' in page.text
    shown = text_of(page.text)
    assert "Ra mắt Tổ công nghệ số cộng đồng thôn Đông" in shown and "Hướng dẫn thanh toán số an toàn" in shown
    assert "Tin của phường Hòa Bình" not in shown
    assert f'&lt;iframe src="{BASE}/xa/{here.commune.id}/widget"' in page.text


def test_the_widget_is_small_framable_cookieless_and_scriptless(client, channels):
    here, _ = channels
    response = client.get(f"/xa/{here.commune.id}/widget")
    assert response.status_code == 200
    assert "set-cookie" not in response.headers
    assert "x-frame-options" not in response.headers and "x-lms-embeddable" not in response.headers
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors *" in policy and "script-src" not in policy and "default-src 'none'" in policy
    assert "<script" not in response.text
    stylesheet = next(line.split('href="')[1].split('"')[0] for line in response.text.splitlines()
                      if 'rel="stylesheet"' in line)
    css = client.get(stylesheet)
    assert css.status_code == 200
    assert len(response.content) + len(css.content) < 10_000
    shown = text_of(response.text)
    assert "Hướng dẫn thanh toán số an toàn" in shown and "VNeID cho người mới" in shown
    assert "Buổi đã qua" not in shown
    assert '<base target="_blank">' in response.text
    assert f'href="{BASE}/e/AB12CD34"' in response.text
    # Every other page still refuses to be framed.
    assert client.get("/").headers["x-frame-options"] == "DENY"


def test_the_sites_allowed_to_frame_the_widget_are_a_setting(make_settings, channels, engine):
    from fastapi.testclient import TestClient

    from lms.app import create_app

    app = create_app(make_settings(widget_frame_ancestors="https://namsach.haiphong.gov.vn"))
    with TestClient(app) as client:
        policy = client.get("/widget").headers["content-security-policy"]
    app.state.engine.dispose()
    assert "frame-ancestors https://namsach.haiphong.gov.vn" in policy
    with pytest.raises(ValueError):
        make_settings(widget_frame_ancestors="* ; script-src *")


def test_a_feed_entry_changes_only_when_its_item_does(client, db, channels):
    here, _ = channels
    first = _parsed(client.get(f"/xa/{here.commune.id}/feed.atom"))
    item = db.execute(select(NewsItem).where(NewsItem.title.startswith("Ra mắt"))).scalars().one()
    item.title, item.updated_at = "Ra mắt Tổ công nghệ số cộng đồng thôn Đông (cập nhật)", utcnow()
    db.add(item)
    db.commit()
    second = _parsed(client.get(f"/xa/{here.commune.id}/feed.atom"))
    before = {entry.id: entry.updated for entry in first.entries}
    after = {entry.id: entry.updated for entry in second.entries}
    changed = [key for key in after if before.get(key) != after[key]]
    assert changed == [f"{BASE}/tin-tuc/{item.id}"]
