"""Registering with no network, in real Chromium at 360×740: the form comes from the phone's copy,
the registration waits ("Chờ gửi"), is sent once when the network is back, and a refusal (an
expired form) is kept for the person to confirm with what they typed."""

import pytest
from sqlalchemy import select

from lms import paths
from tests.courses.packtools import sync_dirs
from tests.events.eventtools import registrations, staff_with_event
from tests.factories import fresh, make_user

pytestmark = pytest.mark.browser


def _worker_in_control(page, url) -> None:
    page.goto(url)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null")


def _fill(page, name, phone):
    form = page.locator("#dang-ky")
    form.get_by_label("Họ và tên").fill(name)
    form.get_by_label("Số điện thoại").fill(phone)
    form.get_by_label("Thôn / tổ dân phố").select_option(label="Thôn Đoài")
    form.get_by_label("Người dân").check()
    form.get_by_label("Tôi đồng ý.").check()


def _nothing_waits(page, base):
    page.goto(f"{base}/offline")
    page.get_by_text("Không có gì đang chờ gửi.").wait_for(timeout=30_000)


def test_a_registration_made_offline_is_sent_once_when_back_online(live_server, phone_page, client, db, settings):
    places, staff, event = staff_with_event(client, db, settings)
    base = live_server(workers=1)
    page, context = phone_page, phone_page.context
    _worker_in_control(page, f"{base}/e/{event.code}")

    context.set_offline(True)
    page.goto(f"{base}/e/{event.code}")
    first_key = page.locator("#dang-ky input[name=idempotency_key]").get_attribute("value")
    _fill(page, "Hoàng Văn Thái", "0903 456 789")
    # A weak network: the same form sent twice (a double tap, a retry) with one key.
    sent = page.evaluate("""async () => {
      const body = new URLSearchParams(new FormData(document.getElementById("dang-ky")));
      const answers = [];
      for (let i = 0; i < 2; i++) answers.push((await fetch(location.pathname, {method: "POST", body})).status);
      return answers;
    }""")
    assert sent == [202, 202]
    # Another person on the same phone: a new display of the form, with a key of its own.
    page.goto(f"{base}/e/{event.code}")
    second_key = page.locator("#dang-ky input[name=idempotency_key]").get_attribute("value")
    assert second_key != first_key and len(second_key) >= 16
    _fill(page, "Đặng Thị Lụa", "0903 456 790")
    page.locator("#dang-ky").get_by_role("button", name="Đăng ký tham dự").click()
    page.get_by_role("heading", name="Đã lưu trên điện thoại, chờ gửi").wait_for()
    assert page.get_by_text("Chờ gửi (3)").is_visible()
    assert registrations(db, event.id) == []

    page.goto(f"{base}/offline")
    waiting = page.locator("#cho-gui")
    waiting.get_by_role("heading", name="Chờ gửi (3)").wait_for()
    assert waiting.get_by_text("Đăng ký sự kiện · lưu lúc").count() == 3
    assert page.locator("header a#dang-cho").inner_text() == "Chờ gửi (3)"

    context.set_offline(False)
    _nothing_waits(page, base)
    rows = registrations(db, event.id)
    assert sorted(r.full_name for r in rows) == ["Hoàng Văn Thái", "Đặng Thị Lụa"]
    assert page.locator("header a#dang-cho").count() == 0
    # Nothing of theirs is left on the phone once sent.
    left = page.evaluate("""async () => {
      const names = [];
      for (const name of await caches.keys()) {
        const cache = await caches.open(name);
        for (const request of await cache.keys()) names.push(await (await cache.match(request)).text());
      }
      return names.join(" ");
    }""")
    assert "Hoàng Văn Thái" not in left and "0903456789" not in left and "0903 456 789" not in left


def test_an_expired_form_sent_later_is_kept_for_the_person_to_confirm(live_server, phone_page, client, db,
                                                                      settings):
    places, staff, event = staff_with_event(client, db, settings)
    base = live_server(workers=1)
    page, context = phone_page, phone_page.context
    _worker_in_control(page, f"{base}/e/{event.code}")
    context.set_offline(True)
    page.goto(f"{base}/e/{event.code}")
    _fill(page, "Vũ Minh Khôi", "0903 456 791")
    page.locator("#dang-ky").get_by_role("button", name="Đăng ký tham dự").click()
    page.get_by_role("heading", name="Đã lưu trên điện thoại, chờ gửi").wait_for()

    # While it waited, the phone lost its cookies (cleared, or expired): its token is no good.
    context.clear_cookies()
    context.set_offline(False)
    page.goto(f"{base}/offline")
    confirm = page.locator("#cho-gui")
    confirm.get_by_role("heading", name="Cần xác nhận (1)").wait_for(timeout=30_000)
    assert registrations(db, event.id) == []
    confirm.get_by_role("link", name="Đăng ký sự kiện").click()
    # The server's own answer: the form again, with what they typed.
    assert page.get_by_text("Biểu mẫu đã hết hạn nên chưa được gửi.").is_visible()
    form = page.locator("#dang-ky")
    assert form.get_by_label("Họ và tên").input_value() == "Vũ Minh Khôi"
    form.get_by_role("button", name="Đăng ký tham dự").click()
    page.wait_for_url("**/t/**")
    assert page.get_by_text("Đăng ký thành công!").is_visible()
    assert [r.full_name for r in registrations(db, event.id)] == ["Vũ Minh Khôi"]
    _nothing_waits(page, base)
    assert page.get_by_role("heading", name="Cần xác nhận (1)").count() == 0


def test_a_lesson_marked_done_offline_is_recorded_when_back_online(live_server, phone_page, db, settings):
    from lms.plugins.courses.models import LessonProgress
    from tests.factories import make_places

    sync_dirs(db, [paths.courses_dir()])
    learner = make_user(db, settings, village=make_places(db).villages[0], phone="0987123460",
                        password="mật khẩu dài 2026")
    base = live_server(workers=1)
    page, context = phone_page, phone_page.context
    page.goto(f"{base}/login?next=/courses/vneid-va-dich-vu-cong/vneid-la-gi")
    page.get_by_label("Số điện thoại").fill("0987 123 460")
    page.get_by_label("Mật khẩu").fill("mật khẩu dài 2026")
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/vneid-la-gi")
    _worker_in_control(page, page.url)

    # Reading in the village hall when the network drops, then pressing the button.
    context.set_offline(True)
    page.get_by_role("button", name="Đã học xong bài này").click()
    page.get_by_role("heading", name="Đã lưu trên điện thoại, chờ gửi").wait_for()
    assert page.get_by_text("“Đánh dấu đã học xong bài” chưa gửi được").is_visible()

    def progress():
        fresh(db)
        return db.exec(select(LessonProgress).where(LessonProgress.user_id == learner.id)).scalars().all()

    assert progress() == []
    context.set_offline(False)
    _nothing_waits(page, base)
    assert len(progress()) == 1
