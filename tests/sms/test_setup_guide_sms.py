"""The SMS gateway chosen in the first-run guide: kept in the database, its secret never shown
again, and a test message sent through a real local HTTP server playing the provider."""

import pytest
from sqlalchemy import select

from lms.core.models import InstallationSetting
from lms.plugins.sms.models import SmsMessage
from tests.factories import login, make_user, post_form

SECRET = "Authorization: Bearer khoa-cua-nha-mang-123"
PAGE = "/staff/bat-dau/tin-nhan"


@pytest.fixture
def office(client, db, settings):
    login(client, make_user(db, settings, role="admin").phone)
    return client


def _save(client, **values):
    return post_form(client, PAGE, {"sms_gateway": "http", "sms_http_method": "POST",
                                    "sms_http_body": '{"to": "{phone84}", "content": "{text}"}',
                                    "sms_http_content_type": "application/json", **values}, page=PAGE)


def test_the_provider_is_set_in_the_browser_and_sent_a_test(office, provider, app, db):
    assert "cổng thử (dev), không gửi thật" in office.get(PAGE).text
    saved = _save(office, sms_http_url=f"{provider.url}/send", sms_http_auth_header=SECRET)
    assert saved.status_code == 303
    page = office.get(PAGE).text
    assert "nhà cung cấp qua API (http)" in page and "khoa-cua-nha-mang" not in page
    assert "Đã lưu một dòng; để trống để giữ nguyên." in page

    sent = post_form(office, f"{PAGE}/thu", {"test_phone": "0912 345 678"}, page=PAGE)
    assert sent.status_code == 200 and "Đã gửi tin nhắn thử qua cổng “http”" in sent.text
    [request] = provider.received
    assert request.path == "/send" and request.headers["Authorization"] == "Bearer khoa-cua-nha-mang-123"
    assert '"to": "84912345678"' in request.body and "cổng SMS đã hoạt động" in request.body

    # Saved again with the secret left empty: the one saved before is kept.
    assert _save(office, sms_http_url=f"{provider.url}/v2", sms_http_auth_header="").status_code == 303
    db.rollback()
    assert db.get(InstallationSetting, "sms_http_auth_header").value == SECRET
    post_form(office, f"{PAGE}/thu", {"test_phone": "0912345678"}, page=PAGE)
    assert provider.received[-1].path == "/v2" and provider.received[-1].headers["Authorization"].endswith("-123")


def test_a_failing_provider_and_bad_input_are_said_plainly(office, provider, db):
    bad = _save(office, sms_http_url="ftp://nha-mang.vn/sms", sms_http_auth_header="no colon here")
    assert bad.status_code == 422
    assert "Địa chỉ API bắt đầu bằng https://" in bad.text and "Một dòng dạng “Tên: giá trị”" in bad.text
    assert 'value="ftp://nha-mang.vn/sms"' in bad.text and "no colon here" not in bad.text
    assert db.exec(select(InstallationSetting)).scalars().all() == []
    forged = _save(office, sms_gateway="zalo-cua-ai-do", sms_http_url=f"{provider.url}/send")
    assert forged.status_code == 422 and "Cổng gửi tin nhắn: chọn một trong các mục có sẵn." in forged.text
    missing_url = _save(office, sms_http_url="")
    assert missing_url.status_code == 422 and "Cổng “http” cần địa chỉ API" in missing_url.text

    _save(office, sms_http_url=f"{provider.url}/send")
    provider.status = 500
    failed = post_form(office, f"{PAGE}/thu", {"test_phone": "0912345678"}, page=PAGE)
    assert failed.status_code == 422 and "Chưa gửi được qua cổng “http”" in failed.text
    wrong = post_form(office, f"{PAGE}/thu", {"test_phone": "12345"}, page=PAGE)
    assert wrong.status_code == 422 and "10 chữ số" in wrong.text and 'value="12345"' in wrong.text


def test_the_dev_gateway_keeps_the_test_for_staff_to_read(office, db):
    assert _save(office, sms_gateway="dev", sms_http_url="").status_code == 303
    sent = post_form(office, f"{PAGE}/thu", {"test_phone": "0912345678"}, page=PAGE)
    assert "Đã gửi tin nhắn thử qua cổng “dev”" in sent.text and 'href="/staff/sms"' in sent.text
    [message] = db.exec(select(SmsMessage)).scalars().all()
    assert "cổng SMS đã hoạt động" in message.text
    # The check page sends staff to the page by the name the staff area gives it.
    advice = office.get("/staff/bat-dau/kiem-tra").text.split("<h2>Nên biết", 1)[1]
    assert "“Tin nhắn đã gửi (thử nghiệm)”" in advice
    assert '<a class="choice" href="/staff/sms">Tin nhắn đã gửi (thử nghiệm)</a>' in office.get("/staff").text
    assert _save(office, sms_gateway="none", sms_http_url="").status_code == 303
    off = post_form(office, f"{PAGE}/thu", {"test_phone": "0912345678"}, page=PAGE)
    assert off.status_code == 422 and "Chưa có cổng gửi tin nhắn nào đang dùng" in off.text
