"""Recovering a forgotten password by phone: a 6-digit code by SMS (here the development
gateway), then a one-time link. No enumeration, throttling per phone and per client."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from lms.core import recovery_services as recovery
from lms.core.models import PasswordLink, RateBucket, RecoveryCode
from lms.db import utcnow
from lms.plugins.sms.models import SmsMessage
from tests.factories import PASSWORD, browser, csrf, fresh, login, make_user, post_form, text_of

NEW_PASSWORD = "mật khẩu mới của tôi 2027"


pytestmark = pytest.mark.usefixtures("fresh_timing")


def ask(client, phone: str):
    return post_form(client, "/forgot", {"phone": phone}, page="/forgot")


def type_code(client, phone: str, code: str):
    return post_form(client, "/forgot/code", {"phone": phone, "code": code}, page="/forgot/code")


def sent_codes(db, phone: str) -> list[str]:
    fresh(db)
    texts = db.exec(select(SmsMessage.text).where(SmsMessage.phone == phone).order_by(SmsMessage.id)).scalars()
    return [re.search(r"\b(\d{6})\b", text).group(1) for text in texts]


def count(db, model) -> int:
    fresh(db)
    return db.exec(select(func.count()).select_from(model)).one()[0]


def code_row(db) -> RecoveryCode | None:
    fresh(db)
    return db.exec(select(RecoveryCode)).scalars().first()


def test_login_page_leads_to_the_recovery(client):
    page = client.get("/login").text
    assert '<a href="/forgot">Nhận mã qua tin nhắn</a>' in page


def test_the_whole_flow_sets_a_new_password(app, client, db, settings):
    user = make_user(db, settings)
    page = ask(client, user.phone)
    assert page.status_code == 200
    assert recovery.SENT in text_of(page.text)
    assert f'value="{user.phone}"' in page.text  # the code form keeps the phone
    assert page.headers["cache-control"] == "no-store"
    [code] = sent_codes(db, user.phone)
    # Only an HMAC is kept: neither the code nor its plain hash.
    row = code_row(db)
    assert row.user_id == user.id and code not in row.code_digest and row.tries_left == 5
    assert row.expires_at - row.created_at == timedelta(minutes=5)

    answer = type_code(client, user.phone, f"{code[:3]} {code[3:]}")  # spaces as people type them
    assert answer.status_code == 303
    location = answer.headers["location"]
    assert re.fullmatch(r"/password/[A-Za-z0-9_-]{40,}", location)
    assert code_row(db) is None
    form = client.get(location)
    assert form.status_code == 200 and "Đặt mật khẩu" in form.text
    done = post_form(client, location, {"new": NEW_PASSWORD, "confirm": NEW_PASSWORD}, page=location)
    assert done.status_code == 303 and done.headers["location"] == "/account?password_set=1"

    with browser(app) as other:
        login(other, user.phone, NEW_PASSWORD)
    with browser(app) as other:
        refused = post_form(other, "/login", {"phone": user.phone, "password": PASSWORD}, page="/login")
        assert refused.status_code == 422
    # The code was used: typing it again gives nothing.
    again = type_code(client, user.phone, code)
    assert again.status_code == 422 and recovery.CODE_GONE in text_of(again.text)


def test_an_account_without_a_password_can_be_claimed_by_sms(client, db, settings):
    user = make_user(db, settings)
    user.password_hash = None  # made at an event
    db.add(user)
    db.commit()
    ask(client, user.phone)
    [code] = sent_codes(db, user.phone)
    assert type_code(client, user.phone, code).status_code == 303


def test_an_unknown_number_gets_the_same_page_and_no_message(client, db, settings):
    user = make_user(db, settings, phone="0912345678")
    known = ask(client, user.phone)
    unknown = ask(client, "0987654321")
    assert known.status_code == unknown.status_code == 200
    assert text_of(known.text) == text_of(unknown.text)
    assert known.text.replace(user.phone, "X").replace(csrf_of(known.text), "T") == \
        unknown.text.replace("0987654321", "X").replace(csrf_of(unknown.text), "T")
    assert count(db, SmsMessage) == 1
    # Typing codes answers the same too: tries left, then dead.
    [code] = sent_codes(db, user.phone)
    for phone in (user.phone, "0987654321"):
        wrong = type_code(client, phone, f"{(int(code) + 1) % 10**6:06d}")
        assert wrong.status_code == 422
        assert "Mã không đúng. Bạn còn 4 lần thử." in text_of(wrong.text)
    assert count(db, PasswordLink) == 0


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page).group(1)


def test_five_wrong_codes_end_the_code(client, db, settings):
    user = make_user(db, settings)
    ask(client, user.phone)
    [code] = sent_codes(db, user.phone)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for left in (4, 3, 2, 1):
        page = type_code(client, user.phone, wrong)
        assert page.status_code == 422
        assert recovery.CODE_WRONG.format(tries=left) in text_of(page.text)
        assert f'value="{user.phone}"' in page.text
    fifth = type_code(client, user.phone, wrong)
    assert recovery.CODE_DEAD in text_of(fifth.text)
    right_too_late = type_code(client, user.phone, code)
    assert right_too_late.status_code == 422 and recovery.CODE_GONE in text_of(right_too_late.text)
    assert count(db, PasswordLink) == 0


def test_an_expired_code_is_dead(client, db, settings):
    user = make_user(db, settings)
    ask(client, user.phone)
    [code] = sent_codes(db, user.phone)
    db.execute(update(RecoveryCode).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.commit()
    page = type_code(client, user.phone, code)
    assert page.status_code == 422 and recovery.CODE_GONE in text_of(page.text)
    assert count(db, PasswordLink) == 0


def test_a_new_request_replaces_the_old_code(client, db, settings):
    user = make_user(db, settings)
    ask(client, user.phone)
    ask(client, user.phone)
    first, second = sent_codes(db, user.phone)
    assert count(db, RecoveryCode) == 1
    if first != second:
        assert "Mã không đúng" in text_of(type_code(client, user.phone, first).text)
    assert type_code(client, user.phone, second).status_code == 303


def test_bad_input_keeps_the_phone_and_costs_nothing(client, db, settings):
    user = make_user(db, settings)
    page = ask(client, "12345")
    assert page.status_code == 422 and "10 chữ số" in text_of(page.text)
    assert 'value="12345"' in page.text
    assert count(db, RateBucket) == 0 and count(db, SmsMessage) == 0
    ask(client, user.phone)
    hits = count(db, RateBucket)
    bad = type_code(client, user.phone, "12a")
    assert bad.status_code == 422 and recovery.CODE_FORMAT in text_of(bad.text)
    assert f'value="{user.phone}"' in bad.text
    assert code_row(db).tries_left == 5 and count(db, RateBucket) == hits


def test_expired_forms_show_the_form_again_and_write_nothing(client, db, settings):
    user = make_user(db, settings)
    page = client.post("/forgot", data={"phone": user.phone, "csrf_token": "0" * 64})
    assert page.status_code == 403 and "Biểu mẫu đã hết hạn" in page.text
    assert f'value="{user.phone}"' in page.text
    assert count(db, SmsMessage) == 0 and count(db, RateBucket) == 0 and count(db, RecoveryCode) == 0
    ask(client, user.phone)
    [code] = sent_codes(db, user.phone)
    page = client.post("/forgot/code", data={"phone": user.phone, "code": code, "csrf_token": "bad"})
    assert page.status_code == 403 and f'value="{user.phone}"' in page.text
    assert code_row(db).tries_left == 5 and count(db, PasswordLink) == 0


def test_codes_per_phone_are_limited_and_say_nothing_of_accounts(client, db, settings):
    user = make_user(db, settings)
    for phone in (user.phone, "0987654321"):
        for _ in range(3):
            assert ask(client, phone).status_code == 200
        fourth = ask(client, phone)
        assert fourth.status_code == 429
        assert "Bạn đã yêu cầu mã cho số này nhiều lần" in text_of(fourth.text)
        assert f'value="{phone}"' in fourth.text
    assert len(sent_codes(db, user.phone)) == 3


def test_code_requests_per_client_are_limited(make_app, db, settings):
    app = make_app(recovery_requests_per_client=3)
    users = [make_user(db, settings) for _ in range(4)]
    with browser(app, "10.0.0.1") as client:
        for user in users[:3]:
            assert ask(client, user.phone).status_code == 200
        refused = ask(client, users[3].phone)
        assert refused.status_code == 429 and "Thiết bị này đã yêu cầu quá nhiều mã" in text_of(refused.text)
    assert sent_codes(db, users[3].phone) == []
    with browser(app, "10.0.0.2") as other:  # another client address is not slowed
        assert ask(other, users[3].phone).status_code == 200


def test_codes_typed_per_client_are_limited(make_app, db, settings):
    app = make_app(recovery_tries_per_client=3)
    users = [make_user(db, settings) for _ in range(2)]
    with browser(app, "10.0.0.1") as client:
        for user in users:
            ask(client, user.phone)
        codes = {user.id: sent_codes(db, user.phone)[0] for user in users}
        wrong = {user.id: f"{(int(codes[user.id]) + 1) % 10**6:06d}" for user in users}
        type_code(client, users[0].phone, wrong[users[0].id])
        type_code(client, users[0].phone, wrong[users[0].id])
        type_code(client, users[1].phone, wrong[users[1].id])
        refused = type_code(client, users[1].phone, codes[users[1].id])  # even the right code waits
        assert refused.status_code == 429 and "Thiết bị này đã nhập mã quá nhiều lần" in text_of(refused.text)
    assert count(db, PasswordLink) == 0
    with browser(app, "10.0.0.2") as other:
        assert type_code(other, users[1].phone, codes[users[1].id]).status_code == 303


def test_without_a_gateway_the_page_says_so(make_app, db, settings):
    app = make_app(sms_gateway="none")
    user = make_user(db, settings)
    with browser(app) as client:
        page = client.get("/forgot")
        assert recovery.NO_SMS in text_of(page.text) and 'action="/forgot"' not in page.text
        refused = client.post("/forgot", data={"phone": user.phone, "csrf_token": csrf(client, "/login")})
        assert refused.status_code == 503 and recovery.NO_SMS in text_of(refused.text)
    assert count(db, SmsMessage) == 0 and count(db, RecoveryCode) == 0


def test_a_named_gateway_that_is_not_installed_means_none(make_app):
    app = make_app(sms_gateway="vietguys")
    with browser(app) as client:
        assert recovery.NO_SMS in text_of(client.get("/forgot").text)


def test_the_pages_work_for_anyone(client, db, settings):
    for path in ("/forgot", "/forgot/code"):
        page = client.get(path)
        assert page.status_code == 200 and 'name="csrf_token"' in page.text
        assert page.headers["cache-control"] == "no-store"
