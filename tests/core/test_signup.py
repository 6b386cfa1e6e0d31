import unicodedata

from sqlalchemy import func, select

from lms.core.consent_services import LEARNING, SMS
from lms.core.models import Consent, User
from lms.core.services import CURRENT_CONSENT
from tests.factories import PASSWORD, csrf, make_places, post_form, text_of


def _form(village_id, **overrides):
    data = {
        "full_name": "Trần Thị Bình", "phone": "0912 345 678", "village_id": str(village_id),
        "audience": "nguoi-dan", "birth_year": "1965", "password": PASSWORD,
        "password_confirm": PASSWORD, "consent": "on",
    }
    data.update(overrides)
    return data


def _count_users(db):
    return db.exec(select(func.count()).select_from(User)).one()[0]


def test_signup_page_lists_villages_audiences_and_unticked_consent(client, db):
    places = make_places(db)
    page = client.get("/signup").text
    assert "Thôn Đông" in page and "Xã Minh Châu" in page
    for label in ("Cán bộ, công chức, viên chức", "Doanh nghiệp, hộ kinh doanh",
                  "Tổ công nghệ số cộng đồng", "Người dân"):
        assert label in page
    assert LEARNING.text in page and SMS.text in page
    # Nothing is agreed by default: every consent box is unticked.
    for name in ('name="consent"', 'name="consent_stats"', 'name="consent_sms"'):
        box = page[page.index(name) - 40: page.index(name) + 80]
        assert "checked" not in box
    assert places.villages[0].name in text_of(page)


def test_signup_creates_learner_signs_in_and_records_consent(client, db):
    places = make_places(db)
    decomposed = unicodedata.normalize("NFD", "Trần Thị Bình")
    response = post_form(client, "/signup", _form(places.villages[0].id, full_name=decomposed,
                                                  phone="+84 912.345.678"), page="/signup")
    assert response.status_code == 303
    assert response.headers["location"] == "/account?welcome=1"
    account = text_of(client.get("/account?welcome=1").text)
    assert "Chào mừng Trần Thị Bình" in account
    assert "0912345678" in account and "Thôn Đông" in account and "Xã Minh Châu" in account

    user = db.exec(select(User)).scalars().one()
    assert user.full_name == "Trần Thị Bình"  # stored NFC
    assert user.phone == "0912345678"
    assert user.commune_id == places.commune.id and user.birth_year == 1965
    assert user.password_hash.startswith("$argon2")
    consents = db.exec(select(Consent).order_by(Consent.id)).scalars().all()
    # Learning is agreed; the optional purposes left unticked are recorded as refused.
    assert [(c.user_id, c.purpose, c.granted, c.method) for c in consents] == [
        (user.id, "learning", True, "self"), (user.id, "stats", False, "self"), (user.id, "sms", False, "self")]
    assert consents[0].text_version == CURRENT_CONSENT and consents[0].given_at is not None


def test_every_rejected_field_is_explained_and_the_rest_kept(client, db):
    places = make_places(db)
    response = post_form(client, "/signup", _form(
        places.villages[1].id, phone="0912 345", birth_year="20xx", password="short",
        password_confirm="short", consent="", audience=""), page="/signup")
    assert response.status_code == 422
    page = response.text
    text = text_of(page)
    assert "10 chữ số" in text
    assert "Năm sinh gồm 4 chữ số" in text
    assert "ít nhất 8 ký tự" in text
    assert "Bạn cần đồng ý" in text
    assert "Vui lòng chọn bạn thuộc nhóm nào" in text
    # What was right stays filled in; passwords are never echoed back.
    assert 'value="Trần Thị Bình"' in page
    assert f'value="{places.villages[1].id}" selected' in page
    assert 'value="0912 345"' in page
    assert "short" not in page
    assert _count_users(db) == 0


def test_phone_already_registered_is_refused_without_a_second_account(client, db):
    places = make_places(db)
    assert post_form(client, "/signup", _form(places.villages[0].id), page="/signup"
                     ).status_code == 303
    other = client.__class__(client.app, base_url="http://testserver", follow_redirects=False)
    response = post_form(other, "/signup", _form(places.villages[0].id, phone="84912345678",
                                                 full_name="Người Khác"), page="/signup")
    assert response.status_code == 422
    assert "đã có tài khoản" in text_of(response.text)
    assert _count_users(db) == 1


def test_oversized_body_gets_a_clear_message_not_a_crash(make_settings, engine):
    from fastapi.testclient import TestClient

    from lms.app import create_app

    app = create_app(make_settings(max_body_bytes=10_000))
    with TestClient(app, follow_redirects=False) as client:
        token = csrf(client, "/signup")
        response = client.post("/signup", data={"csrf_token": token, "full_name": "A" * 20_000})
    assert response.status_code == 413
    assert "vượt quá giới hạn" in text_of(response.text)


def test_overlong_field_is_refused_with_the_limit(client, db):
    places = make_places(db)
    response = post_form(client, "/signup", _form(places.villages[0].id, full_name="Nguyễn " * 30),
                         page="/signup")
    assert response.status_code == 422
    assert "Tối đa 100 ký tự" in text_of(response.text)
    assert _count_users(db) == 0


def test_signup_returns_to_the_page_it_came_from_but_never_off_site(client, db):
    places = make_places(db)
    page = client.get("/signup?next=/courses/abc").text
    assert 'name="next" value="/courses/abc"' in page
    response = post_form(client, "/signup", _form(places.villages[0].id, next="/courses/abc"),
                         page="/signup")
    assert response.headers["location"] == "/courses/abc"

    other = client.__class__(client.app, base_url="http://testserver", follow_redirects=False)
    response = post_form(other, "/signup", _form(places.villages[0].id, phone="0987654321",
                                                 next="//evil.example/x"), page="/signup")
    assert response.headers["location"] == "/account?welcome=1"
