"""The person corrects their own data (Law 91/2025/QH15): name, village and year of birth on
/account/profile, and a new phone number proved with a 6-digit SMS code on /account/phone."""

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from lms.core import profile_services as profile
from lms.core import recovery_services as recovery
from lms.core.models import LoginFailure, RecoveryCode, User, UserSession
from lms.db import utcnow
from lms.plugins.sms.models import SmsMessage
from tests.factories import PASSWORD, browser, csrf, fresh, login, make_places, make_user, post_form, text_of
from tests.sms.provider import start_provider

NEW_PHONE = "0387654321"


pytestmark = pytest.mark.usefixtures("fresh_timing")


def count(db, model, *where) -> int:
    fresh(db)
    return db.exec(select(func.count()).select_from(model).where(*where)).one()[0]


def reload(db, user: User) -> User:
    fresh(db)
    return db.get(User, user.id)


def sms_to(db, phone: str) -> list[str]:
    fresh(db)
    return list(db.exec(select(SmsMessage.text).where(SmsMessage.phone == phone).order_by(SmsMessage.id)).scalars())


def codes_to(db, phone: str) -> list[str]:
    return [re.search(r"\b(\d{6})\b", text).group(1) for text in sms_to(db, phone)]


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


# --- Name, village, year of birth -----------------------------------------------------------


def edit(client, data):
    return post_form(client, "/account/profile", data, page="/account/profile")


def test_the_form_is_filled_in_with_the_current_values(client, db, settings):
    places = make_places(db)
    user = make_user(db, settings, village=places.villages[1], name="Lê Thị Hoa")
    user.birth_year = 1975
    db.add(user)
    db.commit()
    login(client, user.phone)
    page = client.get("/account/profile")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert 'value="Lê Thị Hoa"' in page.text and 'value="1975"' in page.text
    assert f'<option value="{places.villages[1].id}" selected>Thôn Đoài</option>' in page.text
    assert f'<option value="{places.villages[0].id}">Thôn Đông</option>' in page.text


def test_a_learner_corrects_name_village_and_year(client, db, settings):
    home = make_places(db)
    elsewhere = make_places(db, commune_name="Phường Tân Mai", villages=("Tổ dân phố số 7",))
    user = make_user(db, settings, village=home.villages[0])
    login(client, user.phone)
    answer = edit(client, {"full_name": "  Trần   Thị  Bình ", "village_id": str(elsewhere.villages[0].id),
                           "birth_year": "1990"})
    assert answer.status_code == 303 and answer.headers["location"] == "/account?profile=1"
    account = text_of(client.get("/account?profile=1").text)
    assert "Trần Thị Bình" in account and "Tổ dân phố số 7" in account and "Phường Tân Mai" in account
    assert "1990" in account
    saved = reload(db, user)
    assert saved.full_name == "Trần Thị Bình" and saved.name_folded == "tran thi binh"
    assert saved.village_id == elsewhere.villages[0].id
    assert saved.commune_id == elsewhere.commune.id  # the commune follows the village
    assert saved.birth_year == 1990


def test_a_blank_year_clears_it(client, db, settings):
    places = make_places(db)
    user = make_user(db, settings, village=places.villages[0])
    user.birth_year = 1980
    db.add(user)
    db.commit()
    login(client, user.phone)
    answer = edit(client, {"full_name": user.full_name, "village_id": str(places.villages[0].id),
                           "birth_year": " "})
    assert answer.status_code == 303
    assert reload(db, user).birth_year is None
    assert "<dt>Năm sinh</dt>" not in client.get("/account").text


@pytest.mark.parametrize(("field", "bad", "message"), [
    ("full_name", "", "Vui lòng nhập họ và tên."),
    ("full_name", "Nguyễn Văn 3", "Họ và tên chỉ gồm chữ cái"),
    ("birth_year", "1800", "Năm sinh gồm 4 chữ số, từ 1900 đến"),
    ("birth_year", "abcd", "Năm sinh gồm 4 chữ số"),
    ("village_id", "999999", profile.VILLAGE_UNKNOWN),
    ("village_id", "99999999999999999999", profile.VILLAGE_UNKNOWN),
    ("village_id", "", profile.VILLAGE_REQUIRED),
])
def test_bad_input_is_refused_with_the_rest_kept(client, db, settings, field, bad, message):
    home = make_places(db)
    elsewhere = make_places(db, commune_name="Phường Tân Mai", villages=("Tổ dân phố số 7",))
    user = make_user(db, settings, village=home.villages[0], name="Nguyễn Văn An")
    login(client, user.phone)
    data = {"full_name": "Phạm Thị Dung", "village_id": str(elsewhere.villages[0].id), "birth_year": "1985",
            field: bad}
    page = edit(client, data)
    assert page.status_code == 422
    assert message in text_of(page.text)
    assert 'aria-invalid="true"' in page.text
    if field != "full_name":
        assert 'value="Phạm Thị Dung"' in page.text
    if field != "birth_year":
        assert 'value="1985"' in page.text
    if field != "village_id":
        assert f'<option value="{elsewhere.villages[0].id}" selected>' in page.text
    saved = reload(db, user)
    assert (saved.full_name, saved.village_id, saved.commune_id, saved.birth_year) == \
        ("Nguyễn Văn An", home.villages[0].id, home.commune.id, None)


def test_a_closed_village_cannot_be_chosen(client, db, settings):
    places = make_places(db)
    closed = places.villages[1]
    closed.active = False
    db.add(closed)
    db.commit()
    user = make_user(db, settings, village=places.villages[0])
    login(client, user.phone)
    assert f'value="{closed.id}"' not in client.get("/account/profile").text
    page = edit(client, {"full_name": user.full_name, "village_id": str(closed.id)})
    assert page.status_code == 422 and profile.VILLAGE_UNKNOWN in text_of(page.text)
    assert reload(db, user).village_id == places.villages[0].id


def test_the_current_village_may_be_kept_after_it_was_closed(client, db, settings):
    places = make_places(db)
    user = make_user(db, settings, village=places.villages[0])
    places.villages[0].active = False
    db.add(places.villages[0])
    db.commit()
    login(client, user.phone)
    form = client.get("/account/profile").text
    assert f'<option value="{places.villages[0].id}" selected>' in form
    answer = edit(client, {"full_name": "Nguyễn Văn Ân", "village_id": str(places.villages[0].id)})
    assert answer.status_code == 303
    saved = reload(db, user)
    assert saved.full_name == "Nguyễn Văn Ân" and saved.village_id == places.villages[0].id


def test_staff_choose_only_villages_of_their_commune_and_keep_it(client, db, settings):
    home = make_places(db)
    elsewhere = make_places(db, commune_name="Phường Tân Mai", villages=("Tổ dân phố số 7",))
    staff = make_user(db, settings, role="staff", commune=home.commune, name="Đỗ Minh Quân")
    login(client, staff.phone)
    form = client.get("/account/profile").text
    assert f'value="{home.villages[0].id}"' in form and f'value="{elsewhere.villages[0].id}"' not in form
    refused = edit(client, {"full_name": "Đỗ Minh Quân", "village_id": str(elsewhere.villages[0].id)})
    assert refused.status_code == 422 and profile.VILLAGE_OTHER_COMMUNE in text_of(refused.text)
    assert reload(db, staff).village_id is None
    done = edit(client, {"full_name": "Đỗ Minh Quân", "village_id": str(home.villages[1].id)})
    assert done.status_code == 303
    saved = reload(db, staff)
    assert saved.village_id == home.villages[1].id and saved.commune_id == home.commune.id
    # No village at all is fine for staff; the commune they work for stays.
    assert edit(client, {"full_name": "Đỗ Minh Quân", "village_id": ""}).status_code == 303
    saved = reload(db, staff)
    assert saved.village_id is None and saved.commune_id == home.commune.id


def test_an_admin_without_a_commune_may_only_choose_none(client, db, settings):
    places = make_places(db)
    admin = make_user(db, settings, role="admin", name="Quản Trị Viên")
    login(client, admin.phone)
    assert f'value="{places.villages[0].id}"' not in client.get("/account/profile").text
    refused = edit(client, {"full_name": "Quản Trị Viên", "village_id": str(places.villages[0].id)})
    assert refused.status_code == 422 and profile.VILLAGE_OTHER_COMMUNE in text_of(refused.text)
    done = edit(client, {"full_name": "Quản Trị Hệ Thống", "village_id": ""})
    assert done.status_code == 303
    saved = reload(db, admin)
    assert saved.full_name == "Quản Trị Hệ Thống" and saved.village_id is None and saved.commune_id is None


def test_anonymous_visitors_are_sent_to_log_in(client):
    for path in ("/account/profile", "/account/phone", "/account/phone/code"):
        answer = client.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login?next=")


def test_posts_without_the_csrf_token_are_refused(client, db, settings):
    places = make_places(db)
    user = make_user(db, settings, village=places.villages[0])
    login(client, user.phone)
    client.get("/account/profile")
    refused = client.post("/account/profile", data={"full_name": "Kẻ Giả Mạo", "village_id": ""})
    assert refused.status_code == 403
    refused = client.post("/account/phone", data={"phone": NEW_PHONE, "password": PASSWORD})
    assert refused.status_code == 403
    saved = reload(db, user)
    assert saved.full_name == "Nguyễn Văn An" and saved.village_id == places.villages[0].id
    assert count(db, SmsMessage) == 0 and count(db, RecoveryCode) == 0


# --- Phone number ---------------------------------------------------------------------------


def ask(client, phone: str, password: str | None = PASSWORD):
    data = {"phone": phone} if password is None else {"phone": phone, "password": password}
    return post_form(client, "/account/phone", data, page="/account/phone")


def confirm(client, phone: str, code: str):
    return post_form(client, "/account/phone/code", {"phone": phone, "code": code}, page="/account/phone")


def locations(*answers) -> list[str]:
    return [answer.headers.get("location", "") for answer in answers]


def test_the_whole_phone_change(app, client, db, settings, make_client):
    places = make_places(db)
    user = make_user(db, settings, village=places.villages[0], phone="0912345678")
    other = make_client()
    login(other, user.phone)
    first = login(client, user.phone)
    form = client.get("/account/phone")
    assert form.status_code == 200 and 'name="password"' in form.text

    sent = ask(client, "038 765 4321")
    assert sent.status_code == 200 and sent.headers["cache-control"] == "no-store"
    assert profile.SENT in text_of(sent.text)
    assert f'<input type="hidden" name="phone" value="{NEW_PHONE}">' in sent.text
    assert 'action="/account/phone/code"' in sent.text
    [code] = codes_to(db, NEW_PHONE)
    assert sms_to(db, NEW_PHONE) == [profile.CODE_TEXT.format(site=settings.site_name, code=code)]
    row = db.exec(select(RecoveryCode)).scalars().one()
    assert row.user_id == user.id and row.tries_left == 5 and code not in row.code_digest
    assert row.expires_at - row.created_at == timedelta(minutes=5)
    assert row.phone_digest != recovery._phone_digest(settings.resolved_secret_key(), NEW_PHONE)
    assert reload(db, user).phone == "0912345678"  # nothing changes before the code

    done = confirm(client, NEW_PHONE, f"{code[:3]} {code[3:]}")
    assert done.status_code == 303 and done.headers["location"] == "/account?phone=1"
    assert reload(db, user).phone == NEW_PHONE
    assert count(db, RecoveryCode) == 0
    # This browser stays signed in, the other one is signed out.
    assert NEW_PHONE in text_of(client.get("/account").text)
    assert other.get("/account").status_code == 303
    assert count(db, UserSession, UserSession.user_id == user.id) == 1
    # The old number is told, without the new one.
    [notice] = sms_to(db, "0912345678")
    assert notice == profile.NOTICE_TEXT.format(site=settings.site_name)
    assert NEW_PHONE not in notice and "4321" not in notice
    # Logging in: the new number works, the old one no longer does.
    with browser(app) as fresh_browser:
        old = post_form(fresh_browser, "/login", {"phone": "0912345678", "password": PASSWORD}, page="/login")
        assert old.status_code == 422
    with browser(app) as fresh_browser:
        new = login(fresh_browser, NEW_PHONE)
    for location in locations(first, sent, done, new, client.get("/account/phone/code")):
        assert NEW_PHONE not in location and "387654321" not in location


def test_the_code_page_without_a_number_starts_again(client, db, settings):
    user = make_user(db, settings)
    login(client, user.phone)
    answer = client.get("/account/phone/code")
    assert answer.status_code == 200 and 'action="/account/phone"' in answer.text
    assert 'name="code"' not in answer.text


def test_a_number_of_another_account_is_refused(client, db, settings):
    user = make_user(db, settings)
    make_user(db, settings, phone=NEW_PHONE, name="Hoàng Văn Lâm")
    login(client, user.phone)
    page = ask(client, NEW_PHONE)
    assert page.status_code == 422 and profile.PHONE_TAKEN in text_of(page.text)
    assert "Hoàng Văn Lâm" not in page.text
    assert f'value="{NEW_PHONE}"' in page.text
    assert count(db, SmsMessage) == 0 and count(db, RecoveryCode) == 0


def test_the_same_number_and_a_bad_number_are_refused(client, db, settings):
    user = make_user(db, settings, phone="0912345678")
    login(client, user.phone)
    same = ask(client, "+84 912 345 678")
    assert same.status_code == 422 and profile.SAME_PHONE in text_of(same.text)
    bad = ask(client, "12345")
    assert bad.status_code == 422 and "10 chữ số" in text_of(bad.text) and 'value="12345"' in bad.text
    assert count(db, SmsMessage) == 0 and count(db, RecoveryCode) == 0


def test_a_wrong_password_is_refused_and_counts_as_a_failed_log_in(client, db, settings):
    user = make_user(db, settings)
    login(client, user.phone)
    page = ask(client, NEW_PHONE, password="không phải mật khẩu")
    assert page.status_code == 422 and profile.REAUTH_WRONG in text_of(page.text)
    assert f'value="{NEW_PHONE}"' in page.text and "không phải mật khẩu" not in page.text
    missing = ask(client, NEW_PHONE, password="")
    assert missing.status_code == 422 and profile.REAUTH_MISSING in text_of(missing.text)
    assert count(db, SmsMessage) == 0 and count(db, RecoveryCode) == 0
    assert count(db, LoginFailure) == 1
    for _ in range(settings.login_max_failures - 1):
        ask(client, NEW_PHONE, password="không phải mật khẩu")
    # Now even the right password waits, as at the log-in page.
    throttled = ask(client, NEW_PHONE)
    assert throttled.status_code == 429 and "đăng nhập sai nhiều lần" in text_of(throttled.text)
    assert count(db, SmsMessage) == 0


def test_an_account_without_a_password_needs_none(client, db, settings):
    user = make_user(db, settings, phone="0912345678")
    login(client, user.phone)
    fresh(db)
    db.execute(update(User).where(User.id == user.id).values(password_hash=None))
    db.commit()
    form = client.get("/account/phone").text
    assert 'name="phone"' in form and 'name="password"' not in form
    assert ask(client, NEW_PHONE, password=None).status_code == 200
    [code] = codes_to(db, NEW_PHONE)
    assert confirm(client, NEW_PHONE, code).status_code == 303
    assert reload(db, user).phone == NEW_PHONE


def test_an_account_without_a_phone_gets_one(client, db, settings):
    user = make_user(db, settings)
    login(client, user.phone)
    fresh(db)
    db.execute(update(User).where(User.id == user.id).values(phone=None))
    db.commit()
    assert ask(client, NEW_PHONE).status_code == 200
    [code] = codes_to(db, NEW_PHONE)
    assert confirm(client, NEW_PHONE, code).status_code == 303
    assert reload(db, user).phone == NEW_PHONE
    assert count(db, SmsMessage) == 1  # no old number to tell


def test_five_wrong_codes_end_the_code(client, db, settings):
    user = make_user(db, settings, phone="0912345678")
    login(client, user.phone)
    ask(client, NEW_PHONE)
    [code] = codes_to(db, NEW_PHONE)
    for left in (4, 3, 2, 1):
        page = confirm(client, NEW_PHONE, wrong(code))
        assert page.status_code == 422 and recovery.CODE_WRONG.format(tries=left) in text_of(page.text)
        assert f'<input type="hidden" name="phone" value="{NEW_PHONE}">' in page.text
    fifth = confirm(client, NEW_PHONE, wrong(code))
    assert fifth.status_code == 422 and recovery.CODE_DEAD in text_of(fifth.text)
    too_late = confirm(client, NEW_PHONE, code)
    assert too_late.status_code == 422 and recovery.CODE_GONE in text_of(too_late.text)
    assert reload(db, user).phone == "0912345678"


def test_an_expired_code_is_dead(client, db, settings):
    user = make_user(db, settings, phone="0912345678")
    login(client, user.phone)
    ask(client, NEW_PHONE)
    [code] = codes_to(db, NEW_PHONE)
    db.execute(update(RecoveryCode).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.commit()
    page = confirm(client, NEW_PHONE, code)
    assert page.status_code == 422 and recovery.CODE_GONE in text_of(page.text)
    assert reload(db, user).phone == "0912345678"


def test_a_badly_typed_code_costs_no_try(client, db, settings):
    user = make_user(db, settings)
    login(client, user.phone)
    ask(client, NEW_PHONE)
    page = confirm(client, NEW_PHONE, "12a")
    assert page.status_code == 422 and recovery.CODE_FORMAT in text_of(page.text)
    fresh(db)
    assert db.exec(select(RecoveryCode.tries_left)).scalar_one() == 5


def test_the_code_is_bound_to_the_number_and_the_person(app, client, db, settings, make_client):
    user = make_user(db, settings, phone="0912345678")
    intruder = make_user(db, settings, phone="0923456789")
    login(client, user.phone)
    ask(client, NEW_PHONE)
    [code] = codes_to(db, NEW_PHONE)
    # Another number in the hidden field: the code is not for it.
    swapped = confirm(client, "0399999999", code)
    assert swapped.status_code == 422 and recovery.CODE_GONE in text_of(swapped.text)
    # Another account with the same number and code gets nothing either.
    other = make_client()
    login(other, intruder.phone)
    stolen = confirm(other, NEW_PHONE, code)
    assert stolen.status_code == 422 and recovery.CODE_GONE in text_of(stolen.text)
    # Nor does the recovery page take it.
    with browser(app, "10.0.0.9") as anonymous:
        forgot = post_form(anonymous, "/forgot/code", {"phone": NEW_PHONE, "code": code}, page="/forgot/code")
        assert forgot.status_code == 422 and recovery.CODE_GONE in text_of(forgot.text)
    assert reload(db, user).phone == "0912345678" and reload(db, intruder).phone == "0923456789"
    assert confirm(client, NEW_PHONE, code).status_code == 303


def test_a_new_code_replaces_the_earlier_one(client, db, settings):
    user = make_user(db, settings)
    login(client, user.phone)
    ask(client, "0399999999")  # mistyped
    page = ask(client, NEW_PHONE)
    assert count(db, RecoveryCode) == 1
    # "Gửi lại mã" sends another code to the same number.
    assert 'action="/account/phone"' in page.text and "Gửi lại mã" in page.text
    again = ask(client, NEW_PHONE)
    assert again.status_code == 200 and count(db, RecoveryCode) == 1
    first, second = codes_to(db, NEW_PHONE)
    if first != second:
        assert "Mã không đúng" in text_of(confirm(client, NEW_PHONE, first).text)
    assert confirm(client, NEW_PHONE, second).status_code == 303


def test_a_number_taken_meanwhile_changes_nothing(client, db, settings, make_client):
    user = make_user(db, settings, phone="0912345678")
    other = make_client()
    login(other, user.phone)
    login(client, user.phone)
    ask(client, NEW_PHONE)
    [code] = codes_to(db, NEW_PHONE)
    make_user(db, settings, phone=NEW_PHONE)  # signed up with it a moment ago
    page = confirm(client, NEW_PHONE, code)
    assert page.status_code == 409 and profile.PHONE_RACE in text_of(page.text)
    assert reload(db, user).phone == "0912345678"
    assert other.get("/account").status_code == 200  # no session ended
    assert count(db, RecoveryCode) == 1
    assert sms_to(db, "0912345678") == []


def test_codes_per_account_are_limited(client, db, settings):
    user = make_user(db, settings)
    login(client, user.phone)
    for _ in range(settings.recovery_codes_per_phone):
        assert ask(client, NEW_PHONE).status_code == 200
    refused = ask(client, NEW_PHONE)
    assert refused.status_code == 429 and "Bạn đã yêu cầu nhiều mã đổi số điện thoại" in text_of(refused.text)
    assert len(sms_to(db, NEW_PHONE)) == settings.recovery_codes_per_phone


def test_code_requests_per_client_are_limited(make_app, db, settings):
    app = make_app(recovery_requests_per_client=2)
    users = [make_user(db, settings) for _ in range(3)]
    with browser(app, "10.0.0.1") as client:
        for number, user in enumerate(users):
            login(client, user.phone)
            answer = ask(client, f"038000000{number}")
            if number < 2:
                assert answer.status_code == 200
        assert answer.status_code == 429 and "Thiết bị này đã yêu cầu quá nhiều mã" in text_of(answer.text)
    assert sms_to(db, "0380000002") == []


def test_without_a_gateway_the_page_says_so(make_app, db, settings):
    app = make_app(sms_gateway="none")
    user = make_user(db, settings)
    with browser(app) as client:
        login(client, user.phone)
        page = client.get("/account/phone")
        assert profile.NO_SMS in text_of(page.text) and 'action="/account/phone"' not in page.text
        refused = client.post("/account/phone", data={"phone": NEW_PHONE, "password": PASSWORD,
                                                      "csrf_token": csrf(client, "/account/profile")})
        assert refused.status_code == 503 and profile.NO_SMS in text_of(refused.text)
    assert count(db, RecoveryCode) == 0 and reload(db, user).phone != NEW_PHONE


@pytest.fixture
def provider():
    provider, server = start_provider()
    yield provider
    server.shutdown()
    server.server_close()


def test_the_code_reaches_the_new_number_through_a_provider(make_app, provider, db, settings):
    app = make_app(sms_http_url=f"{provider.url}/v1/sms",
                   sms_http_body='{"to": "{phone}", "content": "{text}"}', sms_http_timeout_seconds=2)
    user = make_user(db, settings, phone="0912345678")
    with browser(app) as client:
        login(client, user.phone)
        assert ask(client, NEW_PHONE).status_code == 200
        [request] = provider.received
        body = json.loads(request.body)
        assert body["to"] == NEW_PHONE
        [code] = provider.codes()
        assert body["content"] == profile.CODE_TEXT.format(site=settings.site_name, code=code)
        done = confirm(client, NEW_PHONE, code)
        assert done.status_code == 303 and done.headers["location"] == "/account?phone=1"
    assert reload(db, user).phone == NEW_PHONE
    notice = json.loads(provider.received[1].body)
    assert notice["to"] == "0912345678" and NEW_PHONE not in provider.received[1].body
    assert notice["content"] == profile.NOTICE_TEXT.format(site=settings.site_name)
    assert count(db, SmsMessage) == 0  # the development gateway was not used


def test_a_failing_notice_does_not_undo_the_change(make_app, provider, db, settings):
    app = make_app(sms_http_url=f"{provider.url}/v1/sms", sms_http_timeout_seconds=2)
    user = make_user(db, settings, phone="0912345678")
    with browser(app) as client:
        login(client, user.phone)
        ask(client, NEW_PHONE)
        [code] = provider.codes()
        provider.status = 500
        assert confirm(client, NEW_PHONE, code).status_code == 303
    assert reload(db, user).phone == NEW_PHONE and len(provider.received) == 2


def test_a_failing_send_leaves_no_code(make_app, provider, db, settings):
    provider.status = 500
    app = make_app(sms_http_url=f"{provider.url}/v1/sms", sms_http_timeout_seconds=2)
    user = make_user(db, settings)
    with browser(app) as client:
        login(client, user.phone)
        page = ask(client, NEW_PHONE)
        assert page.status_code == 503 and recovery.SMS_FAILED in text_of(page.text)
        assert f'value="{NEW_PHONE}"' in page.text
    assert count(db, RecoveryCode) == 0
