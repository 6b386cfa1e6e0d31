"""Listening in real Chromium at 360×740: an officer uploads a recording through the studio
page, a resident's player seeks into the middle of it (answered 206 with a byte range), and a
lesson with no recording plays the machine voice made on the server."""

import os
import shutil
import subprocess

import pytest

from lms import paths
from tests.courses.packtools import sync_dirs
from tests.factories import PASSWORD, make_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(any(shutil.which(t) is None for t in ("espeak-ng", "ffmpeg")) and os.environ.get("CI") != "true",
                       reason="needs espeak-ng and ffmpeg (apt-get install espeak-ng ffmpeg)"),
]

COURSE = "vneid-va-dich-vu-cong"
RECORDED = f"/courses/{COURSE}/vneid-la-gi"
UNRECORDED = f"/courses/{COURSE}/nop-ho-so-dich-vu-cong"

# Loads the player's metadata, seeks to the middle, plays muted (allowed without a tap) and
# reports where it stands once it has played on a little from there.
SEEK_TO_MIDDLE = """async () => {
  const a = document.querySelector("section.listen audio");
  a.muted = true;
  a.preload = "metadata";
  if (a.readyState < 1) {
    await new Promise((ok, bad) => {
      a.onloadedmetadata = ok; a.onerror = () => bad(a.error && a.error.message); a.load();
    });
  }
  const target = a.duration / 2;
  await new Promise((ok) => { a.onseeked = ok; a.currentTime = target; });
  await a.play();
  await new Promise((ok) => setTimeout(ok, 600));
  a.pause();
  return {duration: a.duration, target, now: a.currentTime,
          seekable: a.seekable.length ? a.seekable.end(0) : 0, src: a.currentSrc};
}"""


@pytest.fixture
def recording(tmp_path):
    """A 40-second spoken MP3 at 64 kbit/s (320 KB): long enough that the player asks in ranges."""
    wav = tmp_path / "voice.wav"
    subprocess.run(["espeak-ng", "-v", "vi", "-s", "120", "-w", str(wav),
                    "Xin chào bà con. Hôm nay chúng ta học cách cài ứng dụng VNeID trên điện thoại. " * 6],
                   check=True)
    mp3 = tmp_path / "ghi-am-bai-1.mp3"
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", str(wav), "-ac", "1",
                    "-c:a", "libmp3lame", "-b:a", "64k", str(mp3)], check=True)
    return mp3


def _log_in(page, base, phone):
    page.goto(f"{base}/login")
    page.get_by_label("Số điện thoại").fill(phone)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()


def test_an_uploaded_recording_seeks_into_its_middle(live_server, phone_page, db, settings, recording):
    sync_dirs(db, [paths.courses_dir()])
    admin = make_user(db, settings, role="admin", name="Trần Thị Loa")
    base = live_server(workers=1)
    page = phone_page

    _log_in(page, base, admin.phone)
    page.goto(f"{base}/studio-audio/{COURSE}")
    section = page.locator("#bai-vneid-la-gi")
    section.get_by_label("Tệp ghi âm").set_input_files(str(recording))
    section.get_by_label("Người đọc (để trống: tên của bạn)").fill("Cô Lan, thôn Đông")
    section.get_by_role("button", name="Tải bản ghi âm lên").click()
    page.get_by_text("Đã lưu bản ghi âm.").wait_for()
    page.context.clear_cookies()

    answers = []
    page.on("response", lambda r: answers.append((r.url, r.status, r.headers.get("content-range", ""),
                                                  r.request.headers.get("range", ""))) if "/media/" in r.url else None)
    page.goto(f"{base}{RECORDED}")
    assert page.get_by_text("Ghi âm bởi Cô Lan, thôn Đông").is_visible()
    assert page.get_by_role("heading", name="Nghe bài học").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    state = page.evaluate(SEEK_TO_MIDDLE)

    assert 38 < state["duration"] < 46, state
    assert state["seekable"] == pytest.approx(state["duration"], abs=0.5), state
    assert state["target"] <= state["now"] < state["target"] + 3, state
    ranged = [a for a in answers if a[1] == 206]
    assert ranged, answers
    assert all(a[2].startswith("bytes ") and a[3].startswith("bytes=") for a in ranged), answers
    assert all(a[1] in (200, 206) for a in answers), answers
    print(f"recording: {state['duration']:.1f} s, {len(ranged)} range answers: {[a[2] for a in ranged]}")


def test_a_lesson_without_a_recording_plays_the_machine_voice(live_server, phone_page, db, settings):
    sync_dirs(db, [paths.courses_dir()])
    base = live_server(workers=1)
    page = phone_page
    answers = []
    page.on("response", lambda r: answers.append((r.url, r.status, r.headers.get("content-type", ""))))

    page.goto(f"{base}{UNRECORDED}")
    assert page.get_by_text("Giọng máy đọc").is_visible()
    assert not any("giong-may" in url for url, *_ in answers), "the voice is made only when played"
    state = page.evaluate(SEEK_TO_MIDDLE)

    assert state["duration"] > 20, state  # the whole lesson read out, not an empty file
    assert state["now"] >= state["target"], state
    made = [a for a in answers if "giong-may.mp3" in a[0]]
    assert made and made[0][1] == 302, answers
    media = [a for a in answers if "/media/" in a[0]]
    assert media and all(a[1] in (200, 206) and a[2] == "audio/mpeg" for a in media), answers
    assert state["src"].endswith("giong-may.mp3"), state
