"""News items: written as drafts by a commune's staff, published, shown to the public, withdrawn;
pictures checked by content, links only to what the channels offer, every route's policy."""

import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from lms.db import utcnow
from lms.plugin_host import flatten
from lms.plugins.events.models import Event
from lms.plugins.tin_tuc.models import NewsItem
from tests.factories import csrf, fresh, login, make_places, make_user, post_form, text_of

NEWS = {"title": "Ra mắt Tổ công nghệ số cộng đồng thôn Đông",
        "summary": "Tổ gồm 5 thành viên, hướng dẫn bà con cài đặt VNeID tại nhà văn hóa.",
        "body": "Sáng nay, **Tổ công nghệ số cộng đồng** thôn Đông ra mắt.\n\n- Hướng dẫn cài VNeID\n- Hướng dẫn "
                "thanh toán không dùng tiền mặt"}


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (900, 600), (30, 90, 150)).save(out, "PNG")
    return out.getvalue()


def _count(db) -> int:
    fresh(db)
    return db.execute(select(func.count()).select_from(NewsItem)).scalar_one()


@pytest.fixture
def commune(db, settings):
    return make_places(db)


@pytest.fixture
def staff_client(client, db, settings, commune):
    staff = make_user(db, settings, role="staff", commune=commune.commune, name="Cán Bộ Văn Hóa")
    login(client, staff.phone)
    return client


def _create(client, data: dict, files: dict | None = None):
    token = csrf(client, "/staff/tin-tuc/new")
    return client.post("/staff/tin-tuc/new", data={**data, "csrf_token": token}, files=files or {})


def _publish(client, item_id: int):
    token = csrf(client, f"/staff/tin-tuc/{item_id}")
    return client.post(f"/staff/tin-tuc/{item_id}/publish", data={"csrf_token": token})


def test_a_draft_is_private_until_published_and_gone_when_withdrawn(staff_client, client, make_client, db, commune):
    saved = _create(staff_client, NEWS)
    assert saved.status_code == 303
    fresh(db)
    item = db.execute(select(NewsItem)).scalars().one()
    assert item.status == "draft" and item.commune_id == commune.commune.id and item.published_at is None
    assert "<strong>Tổ công nghệ số cộng đồng</strong>" in item.body_html

    visitor = make_client()
    assert visitor.get(f"/tin-tuc/{item.id}").status_code == 404
    assert NEWS["title"] not in visitor.get("/tin-tuc").text

    assert _publish(staff_client, item.id).status_code == 303
    page = visitor.get(f"/tin-tuc/{item.id}")
    assert page.status_code == 200
    shown = text_of(page.text)
    assert NEWS["title"] in shown and "Hướng dẫn cài VNeID" in shown and "Xã Minh Châu" in shown
    listing = text_of(visitor.get("/tin-tuc").text)
    assert NEWS["title"] in listing and NEWS["summary"] in listing
    home = text_of(visitor.get("/").text)
    assert "Tin mới" in home and NEWS["title"] in home
    fresh(db)
    first_published = db.get(NewsItem, item.id).published_at
    assert first_published is not None

    token = csrf(staff_client, f"/staff/tin-tuc/{item.id}")
    assert staff_client.post(f"/staff/tin-tuc/{item.id}/withdraw", data={"csrf_token": token}).status_code == 303
    assert visitor.get(f"/tin-tuc/{item.id}").status_code == 404
    assert NEWS["title"] not in visitor.get("/").text
    # Published again: a correction, the first publication's time stays.
    _publish(staff_client, item.id)
    fresh(db)
    assert db.get(NewsItem, item.id).published_at == first_published


def test_bad_input_is_explained_keeps_what_was_typed_and_writes_nothing(staff_client, db):
    bad = _create(staff_client, {**NEWS, "title": "  ", "body": ""})
    assert bad.status_code == 422
    page = text_of(bad.text)
    assert "Hãy nhập tiêu đề tin." in page and "Hãy viết nội dung tin." in page
    assert NEWS["summary"] in bad.text  # the summary typed is still there
    assert _count(db) == 0

    too_long = _create(staff_client, {**NEWS, "title": "Tin " * 60})
    assert too_long.status_code == 422 and "Tối đa 200 ký tự." in text_of(too_long.text)
    assert _count(db) == 0


def test_a_picture_is_checked_by_its_content(staff_client, db):
    fake = _create(staff_client, {**NEWS, "image_alt": "Ảnh ra mắt tổ"},
                   files={"image": ("anh.jpg", b"MZ\x90\x00 not a picture at all", "image/jpeg")})
    assert fake.status_code == 422
    assert "ảnh" in text_of(fake.text).lower() and NEWS["title"] in fake.text
    assert _count(db) == 0

    no_alt = _create(staff_client, NEWS, files={"image": ("anh.png", _png(), "image/png")})
    assert no_alt.status_code == 422 and 'id="image_alt-error"' in no_alt.text
    assert _count(db) == 0

    saved = _create(staff_client, {**NEWS, "image_alt": "Tổ công nghệ số ra mắt tại nhà văn hóa thôn"},
                    files={"image": ("anh.png", _png(), "image/png")})
    assert saved.status_code == 303
    fresh(db)
    item = db.execute(select(NewsItem)).scalars().one()
    assert item.image["alt"] == "Tổ công nghệ số ra mắt tại nhà văn hóa thôn"
    _publish(staff_client, item.id)
    page = staff_client.get(f"/tin-tuc/{item.id}").text
    assert 'alt="Tổ công nghệ số ra mắt tại nhà văn hóa thôn"' in page and "srcset=" in page
    url = item.image["variants"][0][3]
    picture = staff_client.get(url)
    assert picture.status_code == 200 and picture.headers["content-type"].startswith("image/")


def test_markdown_cannot_carry_a_script(staff_client, client, db):
    _create(staff_client, {**NEWS, "body": "<script>alert(1)</script>\n\n[bấm](javascript:alert(1)) "
                                           "[Cổng DVC](https://dichvucong.gov.vn)"})
    fresh(db)
    item = db.execute(select(NewsItem)).scalars().one()
    assert "<script" not in item.body_html and "href=\"javascript" not in item.body_html
    assert "&lt;script&gt;" in item.body_html  # shown as the text it was
    assert '<a href="https://dichvucong.gov.vn" rel="noopener noreferrer">Cổng DVC</a>' in item.body_html


def _event(db, commune, title="Hướng dẫn cài VNeID", days=3) -> Event:
    start = utcnow() + timedelta(days=days)
    event = Event(code=f"EV{days:02d}AB", commune_id=commune.id, title=title, kind="huong-dan",
                  starts_at=start, ends_at=start + timedelta(hours=2), place_text="Nhà văn hóa thôn Đông")
    db.add(event)
    db.commit()
    return event


def test_a_news_item_links_only_to_what_the_commune_offers(staff_client, db, commune, settings):
    event = _event(db, commune.commune)
    other = make_places(db, commune_name="Phường Hòa Bình", villages=("Tổ 1",))
    elsewhere = _event(db, other.commune, title="Sự kiện của phường khác", days=4)
    form = staff_client.get("/staff/tin-tuc/new").text
    assert "Sự kiện: Hướng dẫn cài VNeID" in form and "Sự kiện của phường khác" not in form

    refused = _create(staff_client, {**NEWS, "link_key": f"su-kien:{elsewhere.code}"})
    assert refused.status_code == 422 and "không còn để chọn" in text_of(refused.text)
    assert _count(db) == 0

    assert _create(staff_client, {**NEWS, "link_key": f"su-kien:{event.code}"}).status_code == 303
    fresh(db)
    item = db.execute(select(NewsItem)).scalars().one()
    assert (item.link_url, item.link_title) == (f"/e/{event.code}", "Hướng dẫn cài VNeID")
    _publish(staff_client, item.id)
    page = staff_client.get(f"/tin-tuc/{item.id}").text
    assert f'href="/e/{event.code}"' in page


def test_published_news_is_offered_to_the_bulletin_and_as_plan_evidence(staff_client, app, db, commune, settings):
    _create(staff_client, NEWS)
    fresh(db)
    item = db.execute(select(NewsItem)).scalars().one()
    staff = db.execute(select(NewsItem.created_by_id)).scalar_one()
    from lms.core.models import User

    person = db.get(User, staff)
    pm = app.state.pm
    assert not [c for c in flatten(pm.hook.bulletin_choices(db=db, user=person)) if c.key == f"tin-tuc:{item.id}"]
    _publish(staff_client, item.id)
    fresh(db)
    choice = next(c for c in flatten(pm.hook.bulletin_choices(db=db, user=person)) if c.key == f"tin-tuc:{item.id}")
    assert choice.title == NEWS["title"] and "Hướng dẫn cài VNeID" in choice.text and "**" not in choice.text
    evidence = next(c for c in flatten(pm.hook.evidence_choices(db=db, user=person)) if c.key == f"tin-tuc:{item.id}")
    assert evidence.url == f"/tin-tuc/{item.id}" and evidence.group == "Tin tức đã đăng"


@pytest.mark.parametrize("role", [None, "learner", "team_member", "staff", "admin"])
def test_each_role_on_the_news_desk(role, client, db, settings, commune):
    if role:
        login(client, make_user(db, settings, role=role, commune=commune.commune).phone)
    page = client.get("/staff/tin-tuc")
    if role is None:
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
    elif role in ("learner", "team_member"):
        assert page.status_code == 403
    else:
        assert page.status_code == 200 and "Viết tin mới" in page.text
    if role in ("staff", "admin"):
        assert _create(client, NEWS).status_code == 303
        assert _count(db) == 1
    else:
        token = csrf(client, "/login" if role is None else "/account/password")
        response = client.post("/staff/tin-tuc/new", data={**NEWS, "csrf_token": token})
        assert response.status_code == (303 if role is None else 403) and _count(db) == 0


def test_another_communes_staff_cannot_see_or_change_an_item(staff_client, make_client, db, settings, commune):
    _create(staff_client, NEWS)
    fresh(db)
    item = db.execute(select(NewsItem)).scalars().one()
    other = make_places(db, commune_name="Phường Hòa Bình", villages=("Tổ 1",))
    stranger = make_client()
    login(stranger, make_user(db, settings, role="staff", commune=other.commune).phone)
    assert stranger.get(f"/staff/tin-tuc/{item.id}").status_code == 404
    token = csrf(stranger, "/staff/tin-tuc/new")
    assert stranger.post(f"/staff/tin-tuc/{item.id}/publish", data={"csrf_token": token}).status_code == 404
    assert stranger.post(f"/staff/tin-tuc/{item.id}", data={**NEWS, "title": "Đổi", "csrf_token": token}
                         ).status_code == 404
    assert NEWS["title"] not in stranger.get("/staff/tin-tuc").text
    fresh(db)
    assert db.get(NewsItem, item.id).status == "draft" and db.get(NewsItem, item.id).title == NEWS["title"]


def test_an_administrator_writes_for_the_whole_installation(client, db, settings, commune):
    admin = make_user(db, settings, role="admin")
    login(client, admin.phone)
    assert "Toàn hệ thống" in client.get("/staff/tin-tuc/new").text
    assert _create(client, {**NEWS, "commune": ""}).status_code == 303
    fresh(db)
    item = db.execute(select(NewsItem)).scalars().one()
    assert item.commune_id is None
    _publish(client, item.id)
    # A commune's readers see the installation's news beside their own.
    assert NEWS["title"] in client.get(f"/tin-tuc?xa={commune.commune.id}").text


def test_a_published_item_cannot_be_deleted_only_withdrawn(staff_client, db):
    _create(staff_client, NEWS)
    fresh(db)
    item = db.execute(select(NewsItem)).scalars().one()
    _publish(staff_client, item.id)
    response = post_form(staff_client, f"/staff/tin-tuc/{item.id}/delete", {}, page=f"/staff/tin-tuc/{item.id}")
    assert response.status_code == 409 and "gỡ tin xuống trước" in text_of(response.text)
    assert _count(db) == 1
    token = csrf(staff_client, f"/staff/tin-tuc/{item.id}")
    staff_client.post(f"/staff/tin-tuc/{item.id}/withdraw", data={"csrf_token": token})
    response = post_form(staff_client, f"/staff/tin-tuc/{item.id}/delete", {}, page=f"/staff/tin-tuc/{item.id}")
    assert response.status_code == 303 and _count(db) == 0
