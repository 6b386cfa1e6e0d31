"""A resident registered by QR claims the account the registration made, with the ticket as proof,
and finds their tickets and certificates on the account page."""

from sqlalchemy import select

from lms.core.models import PasswordLink, User
from tests.events.eventtools import register, staff_with_event
from tests.factories import PASSWORD, csrf, csrf_from, fresh, login, post_form, text_of


def _ticket_path(response) -> str:
    return response.headers["location"].split("?")[0]


def test_register_then_claim_with_the_ticket_then_log_in(client, db, settings, make_client):
    places, _, event = staff_with_event(client, db, settings)
    resident = make_client()
    ticket = _ticket_path(register(resident, event, name="Đỗ Thị Mai", phone="0915111222",
                                   village=places.villages[0]))
    page = resident.get(ticket)
    assert "Đặt mật khẩu để học tiếp" in text_of(page.text)
    claimed = resident.post(f"{ticket}/claim", data={"csrf_token": csrf_from(page.text)})
    assert claimed.status_code == 303 and claimed.headers["location"].startswith("/password/")
    form = resident.get(claimed.headers["location"])
    assert "Đỗ Thị Mai" in text_of(form.text) and "0915111222" not in form.text  # phone masked
    done = resident.post(claimed.headers["location"], data={"csrf_token": csrf_from(form.text), "new": PASSWORD,
                                                            "confirm": PASSWORD})
    assert done.status_code == 303 and done.headers["location"] == "/account?password_set=1"
    account = text_of(resident.get(done.headers["location"]).text)
    assert "Đã đặt mật khẩu" in account and "Vé của tôi" in account and event.title in account
    # The link worked once; the account now logs in like any other.
    again = resident.get(claimed.headers["location"])
    assert again.status_code == 404 and "đã hết hạn hoặc đã được dùng" in text_of(again.text)
    post_form(resident, "/logout", {}, page="/account")
    login(resident, "0915111222")
    fresh(db)
    link = db.exec(select(PasswordLink)).scalars().one()
    assert link.purpose == "claim" and link.used_at is not None and link.created_by_id is None


def test_a_claimed_account_cannot_be_claimed_again_with_the_ticket(client, db, settings, make_client):
    places, _, event = staff_with_event(client, db, settings)
    resident = make_client()
    ticket = _ticket_path(register(resident, event, phone="0915333444", village=places.villages[0]))
    fresh(db)
    with db.begin():
        person = db.exec(select(User).where(User.phone == "0915333444")).scalars().one()
        person.password_hash = "argon2-placeholder"
        db.add(person)
    page = resident.get(ticket)
    assert "Đặt mật khẩu để học tiếp" not in text_of(page.text)
    refused = resident.post(f"{ticket}/claim", data={"csrf_token": csrf(resident, "/signup")})
    assert refused.status_code == 409 and "đã có mật khẩu" in text_of(refused.text)
    fresh(db)
    assert db.exec(select(PasswordLink)).scalars().all() == []


def test_claiming_needs_the_ticket_and_a_form_token(client, db, settings, make_client):
    places, _, event = staff_with_event(client, db, settings)
    resident = make_client()
    ticket = _ticket_path(register(resident, event, phone="0915555666", village=places.villages[0]))
    stranger = make_client()
    token = csrf(stranger, "/signup")
    assert stranger.post("/t/khong-phai-ve-nao/claim", data={"csrf_token": token}).status_code == 404
    assert stranger.post(f"{ticket}/claim").status_code == 403  # no CSRF token
    fresh(db)
    assert db.exec(select(PasswordLink)).scalars().all() == []


def test_sign_up_with_the_phone_of_an_unclaimed_account_offers_to_claim_it(client, db, settings, make_client):
    places, _, event = staff_with_event(client, db, settings)
    register(make_client(), event, phone="0915777888", village=places.villages[0])
    newcomer = make_client()
    response = post_form(newcomer, "/signup", {
        "full_name": "Đỗ Thị Mai", "phone": "0915 777 888", "village_id": str(places.villages[0].id),
        "audience": "nguoi-dan", "password": PASSWORD, "password_confirm": PASSWORD, "consent": "on"},
        page="/signup")
    visible = text_of(response.text)
    assert response.status_code == 422
    assert "chưa có mật khẩu" in visible and "Bạn không cần đăng ký lại" in visible
    assert 'href="/forgot"' in response.text
    fresh(db)
    assert len(db.exec(select(User).where(User.phone == "0915777888")).scalars().all()) == 1
