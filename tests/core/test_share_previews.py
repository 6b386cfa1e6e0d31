"""Every course, lesson, event and news page carries one of each Open Graph tag, and its picture
is a 1200×630 PNG drawn from that page's own title (its address changes when the title does)."""

import io
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from PIL import Image
from sqlalchemy import select

from lms import share_images
from lms.db import utcnow
from lms.plugins.tin_tuc.models import NewsItem
from tests.courses.packtools import sync_dirs
from tests.events.eventtools import staff_with_event
from tests.factories import fresh, make_places

TAGS = ("og:title", "og:description", "og:type", "og:url", "og:image", "og:image:width", "og:image:height",
        "og:image:alt", "og:locale", "og:site_name", "twitter:card")


class _Meta(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        values = dict(attrs)
        if tag == "meta" and (values.get("property") or values.get("name")):
            self.tags.append((values.get("property") or values.get("name"), values.get("content") or ""))


def _previews(page: str) -> dict[str, str]:
    parser = _Meta()
    parser.feed(page)
    found = [name for name, _ in parser.tags if name in TAGS]
    for name in TAGS:
        assert found.count(name) == 1, (name, found.count(name))
    return dict(parser.tags)


def _picture(client, url: str) -> bytes:
    response = client.get(urlsplit(url).path + "?" + urlsplit(url).query)
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert response.headers["cache-control"] == share_images.IMMUTABLE
    image = Image.open(io.BytesIO(response.content))
    assert image.size == (1200, 630)
    return response.content


@pytest.fixture
def courses(db):
    from lms import paths

    sync_dirs(db, [paths.courses_dir()])


def test_course_and_lesson_pages(client, courses):
    page = client.get("/courses/vneid-va-dich-vu-cong").text
    tags = _previews(page)
    assert tags["og:title"] == "VNeID và dịch vụ công trực tuyến"
    assert (tags["og:image:width"], tags["og:image:height"]) == ("1200", "630")
    _picture(client, tags["og:image"])
    lesson = _previews(client.get("/courses/vneid-va-dich-vu-cong/kich-hoat-muc-2").text)
    assert lesson["og:image"] != tags["og:image"] and "/kich-hoat-muc-2/anh-chia-se.png?v=" in lesson["og:image"]
    assert client.get("/courses/khong-co/anh-chia-se.png").status_code == 404
    assert client.get("/courses/vneid-va-dich-vu-cong/khong-co/anh-chia-se.png").status_code == 404


def test_event_page(client, make_client, db, settings):
    _, _, event = staff_with_event(client, db, settings, title="Hướng dẫn cài đặt ứng dụng VNeID")
    tags = _previews(make_client().get(f"/e/{event.code}").text)
    assert tags["og:title"] == "Hướng dẫn cài đặt ứng dụng VNeID"
    assert "Đăng ký tham dự miễn phí" in tags["og:description"]
    _picture(client, tags["og:image"])


def test_news_page_and_a_new_title_gives_a_new_picture_address(client, db):
    places = make_places(db)
    item = NewsItem(commune_id=places.commune.id, title="Ra mắt Tổ công nghệ số cộng đồng thôn Đông",
                    body_md="Tổ gồm năm thành viên.", body_html="<p>Tổ gồm năm thành viên.</p>", status="published",
                    published_at=utcnow() - timedelta(days=1))
    db.add(item)
    db.commit()
    first = _previews(client.get(f"/tin-tuc/{item.id}").text)
    assert first["og:description"] == "Tổ gồm năm thành viên."
    before = _picture(client, first["og:image"])
    fresh(db)
    row = db.execute(select(NewsItem)).scalars().one()
    row.title = "Ra mắt Tổ công nghệ số cộng đồng thôn Đoài"
    db.add(row)
    db.commit()
    second = _previews(client.get(f"/tin-tuc/{item.id}").text)
    assert second["og:image"] != first["og:image"]
    assert _picture(client, second["og:image"]) != before
    # The old address still answers, with the current picture, but is not kept for a year.
    stale = client.get(urlsplit(first["og:image"]).path + "?" + urlsplit(first["og:image"]).query)
    assert stale.status_code == 200 and stale.headers["cache-control"] != share_images.IMMUTABLE
    # A draft has no picture to give away.
    row.status = "draft"
    db.add(row)
    db.commit()
    assert client.get(f"/tin-tuc/{item.id}/anh-chia-se.png").status_code == 404
