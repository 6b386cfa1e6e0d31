"""The camera scanner: Chromium's fake camera shows a ticket's QR; the page reads it with the
vendored jsQR and checks the attendee in."""

import io

import pytest
from PIL import Image

from lms.qr import qr_png
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, require_chromium
from tests.events.eventtools import register, registrations, staff_with_event

pytestmark = pytest.mark.browser


def _y4m(image: Image.Image, path, frames: int = 10) -> None:
    """A tiny Y4M video (what Chromium's fake camera plays) showing one still picture."""
    width, height = image.size
    ycbcr = image.convert("YCbCr")
    y, cb, cr = ycbcr.split()
    cb = cb.resize((width // 2, height // 2))
    cr = cr.resize((width // 2, height // 2))
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + y.tobytes() + cb.tobytes() + cr.tobytes())


def test_the_camera_reads_a_ticket_and_checks_in(live_server, client, db, settings, make_client, tmp_path):
    require_chromium()
    from playwright.sync_api import sync_playwright

    places, staff, event = staff_with_event(client, db, settings)
    base = live_server(workers=1)
    attendee = make_client()
    location = register(attendee, event, village=places.villages[0]).headers["location"]
    ticket_url = f"{base}{location.split('?')[0]}"
    frame = Image.new("RGB", (640, 480), "white")
    code = Image.open(io.BytesIO(qr_png(ticket_url, box_size=6))).convert("RGB")
    frame.paste(code, ((640 - code.width) // 2, (480 - code.height) // 2))
    video = tmp_path / "ticket.y4m"
    _y4m(frame, video)

    args = CHROMIUM_ARGS + ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                            f"--use-file-for-fake-video-capture={video}"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        context = browser.new_context(viewport={"width": 360, "height": 740})
        context.grant_permissions(["camera"], origin=base)
        page = context.new_page()
        page.goto(f"{base}/login?next=/staff/events/{event.id}/checkin")
        page.get_by_label("Số điện thoại").fill(staff.phone)
        page.get_by_label("Mật khẩu").fill("mật khẩu dài 2026")
        page.get_by_role("button", name="Đăng nhập").click()
        page.wait_for_url("**/checkin")
        page.get_by_role("button", name="Bật máy ảnh để quét vé").click()
        page.get_by_text("Điểm danh xong: Lê Thị Hoa").wait_for(timeout=20_000)
        assert page.locator("#attended-count").inner_text() == "1"
        browser.close()
    [registration] = registrations(db, event.id)
    assert registration.checked_in_at is not None and registration.checked_in_by_id == staff.id
