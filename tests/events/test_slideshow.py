"""The hall screen (plan §II.2.4): the event's QR slide, then the commune's news, courses and other
events in turn, each with a QR to its page, advancing without JavaScript."""

import re

import pytest
from sqlalchemy import select

from lms.db import utcnow
from lms.plugins.courses.models import Course
from lms.plugins.tin_tuc.models import NewsItem
from lms.qr import qr_svg
from tests.events.eventtools import staff_with_event
from tests.factories import login, make_places, make_user, text_of


def _news(db, commune_id, title):
    db.add(NewsItem(commune_id=commune_id, title=title, summary="Tóm tắt " + title, body_md="x", body_html="x",
                    status="published", published_at=utcnow()))
    db.commit()


def _slide(client, path: str, index: int) -> tuple[str, str]:
    page = client.get(f"{path}?slide={index}")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    refresh = re.search(r'<meta http-equiv="refresh" content="(\d+);url=([^"]+)">', page.text)
    assert refresh, "the slide does not move on by itself"
    return page.text, refresh.group(2).replace("&amp;", "&")


def test_the_event_slideshow_loops_its_qr_and_the_communes_news_and_courses(client, db, settings):
    places, _, event = staff_with_event(client, db, settings)
    _news(db, places.commune.id, "Ra mắt Tổ công nghệ số thôn Đông")
    db.add(Course(slug="vneid-co-ban", title="VNeID cho người mới", summary="Cài và dùng VNeID."))
    db.commit()
    other = make_places(db, commune_name="Phường Hòa Bình", villages=("Tổ 1",))
    _news(db, other.commune.id, "Tin của phường khác")

    path = f"/staff/events/{event.id}/slideshow"
    seen, url = [], f"{path}?slide=0"
    for _ in range(4):
        index = int(re.search(r"slide=(\d+)", url).group(1))
        page, url = _slide(client, path, index)
        seen.append(text_of(page))
    assert "Lễ phát động Bình dân học vụ số" in seen[0] and "Quét mã để đăng ký" in seen[0]
    assert f"Mã: {event.code}" in seen[0]
    assert any("Ra mắt Tổ công nghệ số thôn Đông" in s and "Quét mã để đọc" in s for s in seen)
    assert any("VNeID cho người mới" in s and "Quét mã để học miễn phí" in s for s in seen)
    assert not any("Tin của phường khác" in s for s in seen)
    # Three slides: after the last comes the first again.
    assert seen[3] == seen[0]
    # The event is not shown a second time among the commune's events.
    assert sum("Lễ phát động Bình dân học vụ số" in s for s in seen[:3]) == 1


def test_a_slides_qr_code_is_its_pages_address(client, db, settings):
    places, _, event = staff_with_event(client, db, settings)
    _news(db, places.commune.id, "Ra mắt Tổ công nghệ số thôn Đông")
    page = client.get(f"/staff/events/{event.id}/slideshow?slide=1").text
    item_id = db.execute(select(NewsItem.id)).scalar_one()
    address = f"{settings.base_url.rstrip('/')}/tin-tuc/{item_id}"
    assert "Ra mắt Tổ công nghệ số thôn Đông" in page and address.split("://")[1] in page
    # Decoded from the screen in the browser test; here: the code drawn is the one for the address.
    assert re.search(r"<svg.*?</svg>", page, re.S).group(0) == qr_svg(address)


def test_the_seconds_per_slide_are_bounded(client, db, settings):
    places, _, event = staff_with_event(client, db, settings)
    _news(db, places.commune.id, "Tin một")
    path = f"/staff/events/{event.id}/slideshow"
    for asked, used in (("1", 5), ("30", 30), ("99999", 15), ("abc", 15), ("500", 120)):
        page = client.get(f"{path}?giay={asked}").text
        assert f'content="{used};url=' in page, asked
    assert client.get(f"{path}?slide=99999999").status_code == 200


def test_the_hall_screen_without_an_event(client, db, settings):
    places = make_places(db)
    staff = make_user(db, settings, role="team_member", commune=places.commune)
    login(client, staff.phone)
    empty = client.get("/staff/man-hinh")
    assert empty.status_code == 200 and "Chưa có tin tức, khóa học hay sự kiện" in text_of(empty.text)
    _news(db, places.commune.id, "Tin một")
    _news(db, places.commune.id, "Tin hai")
    first, next_url = _slide(client, "/staff/man-hinh", 0)
    assert next_url.startswith("/staff/man-hinh?slide=1&giay=15")
    assert "1 / 2" in text_of(first)


@pytest.mark.parametrize(("role", "status"), [(None, 303), ("learner", 403), ("team_member", 200),
                                              ("staff", 200), ("admin", 200)])
def test_the_slideshow_per_role(client, make_client, db, settings, role, status):
    places, _, event = staff_with_event(client, db, settings)
    browser = make_client()
    if role:
        login(browser, make_user(db, settings, role=role, commune=places.commune).phone)
    assert browser.get(f"/staff/events/{event.id}/slideshow").status_code == status
    other = make_places(db, commune_name="Phường Hòa Bình", villages=("Tổ 1",))
    stranger = make_client()
    login(stranger, make_user(db, settings, role="staff", commune=other.commune).phone)
    assert stranger.get(f"/staff/events/{event.id}/slideshow").status_code == 404
