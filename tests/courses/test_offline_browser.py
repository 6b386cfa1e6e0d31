"""Reading without a network, in real Chromium at 360×740: a lesson opened once reopens offline,
a saved course opens whole, and nothing personal lands in the phone's caches."""

import time

import pytest

from lms import paths
from tests.courses.packtools import sync_dirs
from tests.factories import make_places, make_user

pytestmark = pytest.mark.browser

COURSE = "/courses/vneid-va-dich-vu-cong"
FIRST = f"{COURSE}/vneid-la-gi"
LATER = f"{COURSE}/nop-ho-so-dich-vu-cong"
OTHER = "/courses/thanh-toan-so-an-toan"

CACHED_TEXTS = """async () => {
  const out = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      const response = await cache.match(request);
      const type = response.headers.get("Content-Type") || "";
      out.push({cache: name, url: request.url, text: type.startsWith("text/") ? await response.text() : ""});
    }
  }
  return out;
}"""


def _controlled(page) -> None:
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller !== null")


def test_a_lesson_opened_online_reopens_offline(live_server, phone_page, db, settings):
    sync_dirs(db, [paths.courses_dir()])
    base = live_server(workers=1)
    page, context = phone_page, phone_page.context

    page.goto(f"{base}{FIRST}")
    # The worker starts after the page has loaded, by itself: nothing to switch on.
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    _controlled(page)
    page.goto(f"{base}{COURSE}")

    context.set_offline(True)
    started = time.perf_counter()
    page.goto(f"{base}{FIRST}")
    seconds = time.perf_counter() - started
    assert page.get_by_role("heading", name="VNeID là gì?").is_visible()
    print(f"lesson reopened offline in {seconds * 1000:.0f} ms")
    page.goto(f"{base}{COURSE}")
    assert page.get_by_role("heading", name="VNeID và dịch vụ công trực tuyến").is_visible()
    # A lesson never opened: the offline page, which says what to do.
    page.goto(f"{base}{LATER}")
    assert page.get_by_role("heading", name="Học khi không có mạng").is_visible()
    assert page.get_by_text("Bạn đang không có mạng.").is_visible()


def test_a_saved_course_opens_whole_offline_and_is_listed(live_server, phone_page, db, settings):
    sync_dirs(db, [paths.courses_dir()])
    base = live_server(workers=1)
    page, context = phone_page, phone_page.context
    page.goto(f"{base}{COURSE}")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    _controlled(page)

    page.get_by_role("button", name="Lưu để học khi không có mạng").click()
    page.get_by_text("Đã lưu 5 bài để học khi không có mạng.").wait_for()
    assert page.get_by_role("button", name="Bỏ lưu khóa học này").is_visible()

    context.set_offline(True)
    page.goto(f"{base}{LATER}")  # never opened, but saved with its course
    assert page.get_by_role("heading", name="Nộp hồ sơ trên Cổng Dịch vụ công quốc gia và theo dõi kết quả")\
        .is_visible()
    # Its pictures were saved with it.
    page.wait_for_function("document.querySelectorAll('main img').length > 0 && "
                           "Array.from(document.querySelectorAll('main img')).every(i => i.complete)")
    assert page.evaluate("Array.from(document.querySelectorAll('main img')).every(i => i.naturalWidth > 0)")
    page.goto(f"{base}/offline")
    listed = page.locator("[data-offline-list]")
    listed.get_by_role("link", name="VNeID và dịch vụ công trực tuyến").wait_for()
    assert listed.get_by_text("· 5 bài").is_visible()
    # Another course was not saved: it is not there.
    page.goto(f"{base}{OTHER}")
    assert page.get_by_role("heading", name="Học khi không có mạng").is_visible()


def test_a_signed_in_learner_leaves_nothing_personal_in_the_caches(live_server, phone_page, db, settings):
    sync_dirs(db, [paths.courses_dir()])
    make_user(db, settings, village=make_places(db).villages[0], phone="0987123459", name="Trần Thị Bích Ngọc",
              password="mật khẩu dài 2026")
    base = live_server(workers=1)
    page, context = phone_page, phone_page.context
    page.goto(f"{base}/login")
    page.get_by_label("Số điện thoại").fill("0987 123 459")
    page.get_by_label("Mật khẩu").fill("mật khẩu dài 2026")
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(lambda url: "/login" not in url)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    _controlled(page)
    page.goto(f"{base}{FIRST}")
    page.get_by_role("button", name="Đã học xong bài này").click()
    page.get_by_text("Tốt lắm! Bạn đã học xong bài này.").wait_for()
    page.goto(f"{base}/account")
    page.goto(f"{base}{COURSE}")
    assert page.get_by_text("Đã học 1/5 bài (20%)").is_visible()
    # The copy kept is the visitor's page, fetched without cookies, in the background.
    page.wait_for_function(f"""caches.open("hvs-trang").then(c => c.match("{base}{COURSE}")).then(r => !!r)""")

    kept = page.evaluate(CACHED_TEXTS)
    urls = {entry["url"].removeprefix(base) for entry in kept}
    assert FIRST in urls and COURSE in urls
    assert not any(url.startswith(("/account", "/login", "/my/")) for url in urls), urls
    for entry in kept:
        for personal in ("Trần Thị Bích Ngọc", "0987123459", "Đăng xuất", "Đã học 1/5"):
            assert personal not in entry["text"], (entry["url"], personal)

    context.set_offline(True)
    page.goto(f"{base}{FIRST}")
    assert page.get_by_role("heading", name="VNeID là gì?").is_visible()
    assert page.get_by_role("link", name="Đăng nhập").count() >= 1  # the visitor's copy
