"""The door scanner on a network that drops, in real Chromium with a camera that shows a ticket:
scans wait on the phone ("Chờ gửi"), are sent when the network is back, and a ticket scanned
twice while offline is flagged."""

import pytest
import qrcode
from sqlalchemy import select

from lms.plugins.events.models import Registration
from tests.events.eventtools import register, staff_with_event
from tests.factories import fresh

pytestmark = pytest.mark.browser


def _camera_file(path, text: str) -> None:
    """A Y4M video of the ticket's QR code, as Chromium's fake camera plays it."""
    image = qrcode.make(text, border=4).convert("L").resize((440, 440))
    from PIL import Image

    frame = Image.new("L", (640, 480), 255)
    frame.paste(image, (100, 20))
    width, height = frame.size
    chroma = bytes([128]) * (width // 2) * (height // 2)
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F5:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(5):
            out.write(b"FRAME\n" + frame.tobytes() + chroma + chroma)


def test_scans_made_offline_are_sent_later_and_a_double_scan_is_flagged(live_server, client, db, settings, tmp_path):
    from playwright.sync_api import sync_playwright

    from tests.conftest import CHROMIUM, CHROMIUM_ARGS, require_chromium

    require_chromium()
    places, staff, event = staff_with_event(client, db, settings)
    client.cookies.clear()
    register(client, event, name="Lê Thị Hoa", phone="0912000111", village=places.villages[0])
    fresh(db)
    registration = db.exec(select(Registration).where(Registration.event_id == event.id)).scalars().one()
    base = live_server(workers=1)
    video = tmp_path / "ve.y4m"
    _camera_file(video, f"{base}/t/{registration.token}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + [
            "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}"])
        context = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN",
                                      permissions=["camera"])
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.goto(f"{base}/login?next=/staff/events/{event.id}/checkin")
        page.get_by_label("Số điện thoại").fill(staff.phone)
        page.get_by_label("Mật khẩu").fill("mật khẩu dài 2026")
        page.get_by_role("button", name="Đăng nhập").click()
        page.wait_for_url(f"**/staff/events/{event.id}/checkin")

        context.set_offline(True)
        page.get_by_role("button", name="Bật máy ảnh để quét vé").click()
        # The camera keeps showing the ticket: it is read again after 4 s, a second scan.
        page.get_by_text("Đã gửi 0 · Chờ gửi 2").wait_for(timeout=30_000)
        assert page.get_by_text("Không có mạng: đã lưu lượt quét, sẽ tự gửi khi có mạng.").is_visible()
        fresh(db)
        assert db.get(Registration, registration.id).checked_in_at is None

        context.set_offline(False)
        page.evaluate("window.dispatchEvent(new Event('online'))")
        queue = page.locator("#scan-queue")
        queue.get_by_text("Chờ gửi 0").wait_for(timeout=30_000)
        # Sent in order: the first checks in, the second is flagged as already in.
        assert queue.locator("[data-flagged] li").first.inner_text().startswith("Lê Thị Hoa đã điểm danh lúc")
        sent = int(queue.locator("[data-counts]").inner_text().split("Đã gửi ")[1].split(" ")[0])
        assert sent >= 2
        assert page.locator("#attended-count").inner_text() == "1"
        assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('hvs-quet')).length") == 0
        context.close()
        browser.close()
    fresh(db)
    assert db.get(Registration, registration.id).checked_in_at is not None
