"""Two walks a resident takes on a 360 px phone without JavaScript, against the real server:
registered at an event, she claims the account, forgets the password, recovers it by SMS
and continues her course; another resident gets a new password from a printed card."""

from datetime import timedelta

import pypdfium2
import pytest
import zxingcpp
from sqlalchemy import select

from lms.core.models import User
from lms.db import utcnow
from lms.plugins.courses.models import Course, LessonProgress
from lms.plugins.events.models import Event, EventCourse
from lms.plugins.teams.models import AssistedResident, Team, TeamMember, TeamVillage
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, require_chromium
from tests.courses.packtools import sync_dirs, write_pack
from tests.factories import fresh, make_places, make_user
from tests.sms.provider import start_provider

pytestmark = pytest.mark.browser
SLUG = "an-toan-tren-mang"


def _fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{page.url} scrolls sideways ({width} px)"


def _phone(playwright):
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True,
                                  java_script_enabled=False, locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    return browser, page


def _log_in(page, base, phone, password):
    page.goto(f"{base}/login")
    page.get_by_label("Số điện thoại").fill(phone)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, page.content()


def _set_password(page, password):
    page.get_by_label("Mật khẩu mới", exact=True).fill(password)
    page.get_by_label("Nhập lại mật khẩu mới").fill(password)
    page.get_by_role("button", name="Đặt mật khẩu và vào học").click()
    page.wait_for_url("**/account?password_set=1")


def test_event_ticket_claim_forgot_code_and_continue(live_server, db, settings, tmp_path):
    require_chromium()
    from playwright.sync_api import sync_playwright

    places = make_places(db)
    write_pack(tmp_path / "packs", SLUG, lessons=["mat-khau", "lua-dao", "ma-otp"], title="An toàn trên mạng")
    sync_dirs(db, [tmp_path / "packs"])
    course = db.exec(select(Course).where(Course.slug == SLUG)).scalars().one()
    event = Event(code="HV7K2M9Q", commune_id=places.commune.id, title="Ngày hội Bình dân học vụ số",
                  kind="le-phat-dong", place_text="Nhà văn hóa thôn Đông",
                  starts_at=utcnow() + timedelta(days=2), ends_at=utcnow() + timedelta(days=2, hours=3))
    db.add(event)
    db.flush()
    db.add(EventCourse(event_id=event.id, course_id=course.id))
    db.commit()
    provider, server = start_provider()
    base = live_server(workers=1, LMS_SMS_HTTP_URL=f"{provider.url}/send",
                       LMS_SMS_HTTP_AUTH_HEADER="Authorization: Bearer k")
    try:
        with sync_playwright() as playwright:
            browser, page = _phone(playwright)
            # Registered at the event: a ticket, and an account without a password.
            page.goto(f"{base}/e/{event.code}")
            _fits(page)
            page.get_by_label("Họ và tên").fill("Hoàng Thị Thu")
            page.get_by_label("Số điện thoại").fill("0977 123 456")
            page.get_by_label("Thôn / tổ dân phố").select_option(label="Thôn Đông")
            page.get_by_label("Người dân").check()
            page.get_by_label("Tôi đồng ý.").check()
            page.get_by_role("button", name="Đăng ký tham dự", exact=True).click()
            page.wait_for_url("**/t/*")
            ticket_url = page.url
            assert "Vé tham dự" in page.content() and "Hoàng Thị Thu" in page.content()
            _fits(page)
            # Claims it with the ticket as proof.
            page.get_by_role("button", name="Đặt mật khẩu để học tiếp").click()
            page.wait_for_url("**/password/*")
            _fits(page)
            _set_password(page, "lần đầu đặt mật khẩu")
            # Learns the first lesson of the event's course.
            page.goto(f"{base}/courses/{SLUG}/mat-khau")
            _fits(page)
            page.get_by_role("button", name="Đã học xong bài này").click()
            page.wait_for_load_state()
            page.get_by_role("button", name="Đăng xuất").click()
            page.wait_for_load_state()

            # Days later she forgot the password: a code by SMS through the provider.
            page.goto(f"{base}/login")
            page.get_by_role("link", name="Nhận mã qua tin nhắn").click()
            page.wait_for_url("**/forgot")
            page.get_by_label("Số điện thoại").fill("0977123456")
            page.get_by_role("button", name="Gửi mã").click()
            page.get_by_text("Nếu số này có tài khoản").wait_for()
            _fits(page)
            [code] = provider.codes()
            # A wrong code first: a Vietnamese message, the number kept.
            wrong = "000000" if code != "000000" else "111111"
            page.get_by_label("Mã gồm 6 chữ số").fill(wrong)
            page.get_by_role("button", name="Xác nhận mã").click()
            page.get_by_text("Mã không đúng").wait_for()
            assert page.get_by_label("Số điện thoại").input_value() == "0977123456"
            page.get_by_label("Mã gồm 6 chữ số").fill(code)
            page.get_by_role("button", name="Xác nhận mã").click()
            page.wait_for_url("**/password/*")
            _set_password(page, "mật khẩu mới sau khi quên")
            page.get_by_role("button", name="Đăng xuất").click()
            page.wait_for_load_state()

            # The old password no longer works; the new one does, and home shows where to go on.
            page.goto(f"{base}/login")
            page.get_by_label("Số điện thoại").fill("0977123456")
            page.get_by_label("Mật khẩu").fill("lần đầu đặt mật khẩu")
            page.get_by_role("button", name="Đăng nhập").click()
            page.wait_for_load_state()
            assert "/login" in page.url
            _log_in(page, base, "0977123456", "mật khẩu mới sau khi quên")
            page.goto(f"{base}/")
            _fits(page)
            assert "Đã học 1/3 bài" in page.content()
            page.get_by_role("link", name="Học tiếp: Bài 2: lua-dao").click()
            page.wait_for_url(f"**/courses/{SLUG}/lua-dao")
            page.get_by_role("button", name="Đã học xong bài này").click()
            page.wait_for_load_state()
            # Her ticket is on the account page.
            page.goto(f"{base}/account")
            _fits(page)
            assert "Vé của tôi" in page.content() and "Ngày hội Bình dân học vụ số" in page.content()
            assert ticket_url.split("/t/")[1].split("?")[0] in page.content()
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    fresh(db)
    person = db.exec(select(User).where(User.phone == "0977123456")).scalars().one()
    done = db.exec(select(LessonProgress).where(LessonProgress.user_id == person.id)).scalars().all()
    assert len(done) == 2
    db.commit()
    # The server's log of the whole walk holds neither her phone number, nor her name, nor the code.
    logs = "".join(path.read_text() for path in tmp_path.glob("server-*.log"))
    assert "GET /courses" in logs  # it is the request log
    for secret in ("0977123456", "0977 123 456", "Hoàng Thị Thu", code, "mật khẩu mới"):
        assert secret not in logs, secret


def _qr_on_printed_page(pdf: bytes) -> list[str]:
    document = pypdfium2.PdfDocument(pdf)
    found = []
    for page in document:
        image = page.render(scale=3).to_pil()
        found += [b.text for b in zxingcpp.read_barcodes(image)
                  if b.format == zxingcpp.BarcodeFormat.QRCode]
    return found


def test_team_member_resets_a_password_with_a_printed_card(live_server, db, settings):
    require_chromium()
    from playwright.sync_api import sync_playwright

    places = make_places(db)
    team = Team(commune_id=places.commune.id, name="Tổ công nghệ số thôn Đông")
    db.add(team)
    db.flush()
    db.add(TeamVillage(team_id=team.id, village_id=places.villages[0].id))
    member = make_user(db, settings, role="team_member", commune=places.commune, name="Đoàn Viên Thanh",
                       password="mật khẩu của tổ viên")
    db.add(TeamMember(team_id=team.id, user_id=member.id))
    resident = make_user(db, settings, village=places.villages[0], name="Bà Nguyễn Thị Tư",
                         password="mật khẩu đã quên mất")
    db.add(AssistedResident(user_id=resident.id, team_id=team.id, registered_by_id=member.id))
    db.commit()
    base = live_server(workers=1)
    with sync_playwright() as playwright:
        browser, page = _phone(playwright)
        _log_in(page, base, member.phone, "mật khẩu của tổ viên")
        page.goto(f"{base}/teams/{team.id}/residents/{resident.id}")
        _fits(page)
        page.get_by_role("button", name="In thẻ đặt lại mật khẩu").click()
        page.wait_for_load_state()
        assert "Thẻ đặt mật khẩu" in page.content() or "đặt mật khẩu" in page.content().lower()
        # Printed as it comes out of the printer: the QR read back from the paper.
        printed = page.pdf(format="A4", print_background=True)
        [url] = _qr_on_printed_page(printed)
        assert url.startswith(f"{base}/password/")
        browser.close()

        # The resident scans the card on her own phone.
        browser, page = _phone(playwright)
        page.goto(url)
        _fits(page)
        assert "Bà Nguyễn Thị Tư" in page.content()
        _set_password(page, "mật khẩu mới của bà Tư")
        page.get_by_role("button", name="Đăng xuất").click()
        page.wait_for_load_state()
        _log_in(page, base, resident.phone, "mật khẩu mới của bà Tư")
        # The card works once.
        page.goto(url)
        _fits(page)
        assert "đã hết hạn hoặc đã được dùng" in page.content()
        browser.close()
    fresh(db)
    assert db.get(User, resident.id).password_changed_at is not None
    db.commit()
