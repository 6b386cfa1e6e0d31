"""The HTTP gateway against a real local HTTP server playing the provider: what it receives,
its timeouts and errors (a clear message, no usable code left), and the whole flow."""

import json
import logging
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from lms.app import create_app
from lms.core import recovery_services as recovery
from lms.core.models import PasswordLink, RecoveryCode
from lms.plugins.sms.gateways import HttpGateway
from lms.plugins.sms.models import SmsMessage
from tests.factories import PASSWORD, fresh, login, make_user, post_form, text_of

NEW_PASSWORD = "mật khẩu mới của tôi 2027"
SECRET_HEADER = "Bearer khoa-bi-mat-cua-nha-mang"


@pytest.fixture
def make_app(make_settings, engine, provider):
    apps = []

    def factory(**overrides):
        values = {
            "sms_http_url": f"{provider.url}/v1/sms?brand=HOCVUSO",
            "sms_http_auth_header": f"Authorization: {SECRET_HEADER}",
            "sms_http_body": '{"to": "{phone84}", "local": "{phone}", "content": "{text}", "type": 2}',
            "sms_http_timeout_seconds": 2,
            **overrides,
        }
        app = create_app(make_settings(**values))
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.state.engine.dispose()


def ask(client, phone):
    return post_form(client, "/forgot", {"phone": phone}, page="/forgot")


def type_code(client, phone, code):
    return post_form(client, "/forgot/code", {"phone": phone, "code": code}, page="/forgot/code")


def count(db, model) -> int:
    fresh(db)
    return db.exec(select(func.count()).select_from(model)).one()[0]


def test_the_provider_receives_the_rendered_request(make_app, provider, db, settings):
    app = make_app()
    user = make_user(db, settings, phone="0912345678")
    with TestClient(app, follow_redirects=False) as client:
        assert ask(client, user.phone).status_code == 200
    [request] = provider.received
    assert request.method == "POST"
    assert request.path == "/v1/sms?brand=HOCVUSO"
    assert request.headers["Authorization"] == SECRET_HEADER
    assert request.headers["Content-Type"] == "application/json"
    body = json.loads(request.body)
    assert body["to"] == "84912345678" and body["local"] == "0912345678" and body["type"] == 2
    [code] = provider.codes()
    assert body["content"] == (f"Mã đặt lại mật khẩu {settings.site_name}: {code}. Mã hết hạn sau 5 phút. "
                               "Không đưa mã này cho ai.")
    assert count(db, SmsMessage) == 0  # the development gateway is not used when a URL is set


def test_the_whole_flow_through_the_provider(make_app, provider, db, settings):
    app = make_app()
    user = make_user(db, settings)
    with TestClient(app, follow_redirects=False) as client:
        ask(client, user.phone)
        [code] = provider.codes()
        answer = type_code(client, user.phone, code)
        assert answer.status_code == 303
        link = answer.headers["location"]
        done = post_form(client, link, {"new": NEW_PASSWORD, "confirm": NEW_PASSWORD}, page=link)
        assert done.status_code == 303
        assert client.get("/account").status_code == 200  # signed in
    with TestClient(app, follow_redirects=False) as other:
        login(other, user.phone, NEW_PASSWORD)
    with TestClient(app, follow_redirects=False) as other:
        old = post_form(other, "/login", {"phone": user.phone, "password": PASSWORD}, page="/login")
        assert old.status_code == 422


def test_placeholders_are_escaped_for_json(make_app, provider, db, settings):
    tricky = 'Mã "{code}" \\ cho {phone}\nhết hạn sau 5 phút'
    app = make_app(sms_recovery_text=tricky)
    user = make_user(db, settings)
    with TestClient(app, follow_redirects=False) as client:
        ask(client, user.phone)
    [code] = provider.codes()
    content = json.loads(provider.received[0].body)["content"]
    # Filled in once: the "{phone}" the text carries is not the phone number.
    assert content == f'Mã "{code}" \\ cho {{phone}}\nhết hạn sau 5 phút'


def test_form_bodies_and_get_urls_are_url_encoded(make_app, provider, db, settings):
    user = make_user(db, settings)
    app = make_app(sms_http_content_type="application/x-www-form-urlencoded",
                   sms_http_body="Phone={phone}&Content={text}&ApiKey=k")
    with TestClient(app, follow_redirects=False) as client:
        ask(client, user.phone)
    form = parse_qs(provider.received[0].body)
    assert form["Phone"] == [user.phone] and "Mã đặt lại mật khẩu" in form["Content"][0]
    get_app = make_app(sms_http_method="GET", sms_http_url=f"{provider.url}/send?to={{phone84}}&msg={{text}}")
    with TestClient(get_app, follow_redirects=False) as client:
        ask(client, user.phone)
    request = provider.received[1]
    query = parse_qs(urlsplit(request.path).query)
    assert request.method == "GET" and request.body == ""
    assert query["to"] == ["84" + user.phone[1:]] and "Mã đặt lại mật khẩu" in query["msg"][0]


def _assert_nothing_usable(client, db, provider, phone):
    assert count(db, RecoveryCode) == 0
    [code] = provider.codes()  # what the provider got (and may still deliver) does not work
    page = type_code(client, phone, code)
    assert page.status_code == 422 and recovery.CODE_GONE in text_of(page.text)
    assert count(db, PasswordLink) == 0


@pytest.mark.parametrize(("status", "location"), [(500, ""), (401, ""), (302, "http://example.invalid/")])
def test_provider_errors_give_a_clear_message_and_leave_nothing(make_app, provider, db, settings,
                                                                status, location):
    provider.status, provider.location = status, location
    app = make_app()
    user = make_user(db, settings)
    with TestClient(app, follow_redirects=False) as client:
        page = ask(client, user.phone)
        assert page.status_code == 503
        assert recovery.SMS_FAILED in text_of(page.text)
        assert f'value="{user.phone}"' in page.text
        _assert_nothing_usable(client, db, provider, user.phone)
    assert len(provider.received) == 1  # the redirect was not followed


def test_a_provider_past_the_timeout_gives_a_clear_message(make_app, provider, db, settings):
    provider.delay = 2.5
    app = make_app(sms_http_timeout_seconds=0.5)
    user = make_user(db, settings)
    with TestClient(app, follow_redirects=False) as client:
        started = time.monotonic()
        page = ask(client, user.phone)
        assert time.monotonic() - started < 2.0
        assert page.status_code == 503 and recovery.SMS_FAILED in text_of(page.text)
        _assert_nothing_usable(client, db, provider, user.phone)


def test_an_answer_without_the_success_text_is_a_failure(make_app, provider, db, settings):
    provider.answer = '{"CodeResult": "99", "ErrorMessage": "Sai ApiKey"}'
    app = make_app(sms_http_success_text='"CodeResult": "100"')
    user = make_user(db, settings)
    with TestClient(app, follow_redirects=False) as client:
        assert ask(client, user.phone).status_code == 503
        _assert_nothing_usable(client, db, provider, user.phone)
    provider.answer = '{"CodeResult": "100"}'
    with TestClient(app, follow_redirects=False) as client:
        assert ask(client, user.phone).status_code == 200


def test_a_failed_send_keeps_the_earlier_code(make_app, provider, db, settings):
    app = make_app()
    user = make_user(db, settings)
    with TestClient(app, follow_redirects=False) as client:
        ask(client, user.phone)
        provider.status = 500
        assert ask(client, user.phone).status_code == 503
        first = provider.codes()[0]
        assert type_code(client, user.phone, first).status_code == 303


def test_an_unknown_number_waits_and_fails_like_a_known_one(make_app, provider, db, settings):
    provider.delay = 0.4
    app = make_app()
    user = make_user(db, settings)
    with TestClient(app, follow_redirects=False) as client:
        started = time.monotonic()
        assert ask(client, user.phone).status_code == 200
        known = time.monotonic() - started
        started = time.monotonic()
        assert ask(client, "0987654321").status_code == 200
        unknown = time.monotonic() - started
        assert known >= 0.4 and unknown >= 0.35, (known, unknown)
        assert len(provider.received) == 1  # nothing is sent to a number without an account
        provider.status = 500
        failed = ask(client, user.phone)
        assert failed.status_code == 503
        # While the gateway fails, a number without an account gets the same failure.
        unknown_failed = ask(client, "0987654322")
        assert unknown_failed.status_code == 503
        assert text_of(failed.text).replace(user.phone, "X") == text_of(unknown_failed.text).replace(
            "0987654322", "X")
    assert len(provider.received) == 2


def test_logs_hold_no_phone_no_code_no_credentials(make_app, provider, db, settings, caplog):
    caplog.set_level(logging.DEBUG)
    app = make_app()
    user = make_user(db, settings)
    with TestClient(app, follow_redirects=False) as client:
        ask(client, user.phone)
        provider.status = 500
        ask(client, user.phone)
    assert "sms gateway http failed: http_500" in caplog.text
    for secret in (user.phone, user.phone[1:], SECRET_HEADER, *provider.codes()):
        assert secret not in caplog.text


def test_a_malformed_setting_is_a_failure_not_a_crash(make_app, db, settings):
    user = make_user(db, settings)
    for overrides in ({"sms_http_auth_header": "no colon here"}, {"sms_http_url": "file:///etc/passwd"}):
        app = make_app(**overrides)
        with TestClient(app, follow_redirects=False) as client:
            page = ask(client, user.phone)
            assert page.status_code == 503 and recovery.SMS_FAILED in text_of(page.text)


def test_the_gateway_alone(provider, make_settings):
    gateway = HttpGateway(make_settings(sms_http_url=provider.url, sms_http_timeout_seconds=1))
    gateway.send("0912345678", "xin chào")
    assert json.loads(provider.received[0].body) == {"phone": "0912345678", "text": "xin chào"}
    provider.status = 404
    with pytest.raises(recovery.ServiceError) as failure:
        gateway.send("0912345678", "xin chào")
    assert failure.value.code == "http_404" and failure.value.message == recovery.SMS_FAILED
