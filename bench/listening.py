"""Listening, measured against the real server: the machine voice of each lesson of a course
(made on the first listen, then a redirect to the kept file), its bytes per minute, a heavy
recording converted on upload, and a loudspeaker bulletin of three lessons.

The reference, run in the same session on the same words, is espeak-ng and ffmpeg called by
hand: the ratio says what the server adds (expanding the words, the claim, storing, the
redirect) to the tools' own time.

    python bench/listening.py [--course vneid-va-dich-vu-cong] [--rounds 3]
"""

import argparse
import io
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx2 as httpx  # noqa: E402
from mutagen.mp3 import MP3  # noqa: E402

from bench._server import running_server  # noqa: E402

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _token(client: httpx.Client, path: str) -> str:
    return TOKEN.search(client.get(path).text).group(1)


def _seconds(data: bytes) -> float:
    return MP3(io.BytesIO(data)).info.length


def _bare_tools(text: str) -> float:
    """espeak-ng then ffmpeg on the same words and settings as the server, by hand."""
    from lms.plugins.courses import audio

    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        subprocess.run(["espeak-ng", "-v", audio.VOICE, "-s", str(audio.WORDS_PER_MINUTE), "-b", "1",
                        "-w", f"{folder}/s.wav", text], check=True, capture_output=True)
        subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", f"{folder}/s.wav", "-ac", "1",
                        "-ar", audio.SPEECH_RATE, "-c:a", "libmp3lame", "-b:a", audio.SPEECH_BITRATE,
                        f"{folder}/s.mp3"], check=True, capture_output=True)
        return time.perf_counter() - started


def _heavy_recording(folder: Path, minutes: float) -> bytes:
    wav = folder / "voice.wav"
    subprocess.run(["espeak-ng", "-v", "vi", "-w", str(wav),
                    "Xin chào bà con. Đây là bản ghi âm bài học về chuyển tiền an toàn. " * 4], check=True)
    out = folder / "heavy.mp3"
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-stream_loop", "-1", "-i", str(wav),
                    "-t", str(minutes * 60), "-ac", "2", "-ar", "44100", "-c:a", "libmp3lame", "-b:a", "128k",
                    str(out)], check=True)
    return out.read_bytes()


def main() -> int:
    from sqlmodel import Session, select

    from lms.db import make_engine
    from lms.plugins.courses import speech
    from lms.plugins.courses.models import Course, Lesson
    from lms.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--course", default="vneid-va-dich-vu-cong")
    parser.add_argument("--rounds", type=int, default=3, help="timings of the cached voice per lesson")
    args = parser.parse_args()
    password = secrets.token_urlsafe(12)
    with running_server(workers=1) as (base, env), httpx.Client(base_url=base, timeout=300) as client:
        subprocess.run([sys.executable, "-m", "lms", "users", "create", "--phone", "0912000111", "--name",
                        "Quản Trị Đo", "--role", "admin", "--password", password],
                       env=env, check=True, capture_output=True)
        engine = make_engine(Settings(instance_dir=Path(env["LMS_INSTANCE_DIR"]),
                                      database_url=env.get("LMS_DATABASE_URL", "")))
        with Session(engine) as db:
            course_id = db.exec(select(Course.id).where(Course.slug == args.course)).one()
            lessons = db.exec(select(Lesson).where(Lesson.course_id == course_id, Lesson.retired.is_(False))
                              .order_by(Lesson.position)).all()
        print(f"course {args.course}: {len(lessons)} lessons")
        print(f"{'lesson':34} {'chars':>6} {'audio s':>8} {'made s':>7} {'tools s':>7} {'ratio':>6} "
              f"{'again ms':>9} {'KB/min':>7}")
        made_total = tools_total = audio_total = bytes_total = 0.0
        for lesson in lessons:
            path = f"/courses/{args.course}/{lesson.slug}"
            text = speech.lesson_text(lesson.title, lesson.body_md)
            tools = _bare_tools(text)
            started = time.perf_counter()
            first = client.get(f"{path}/giong-may.mp3")
            media = client.get(first.headers["location"])
            made = time.perf_counter() - started
            again = []
            for _ in range(args.rounds):
                started = time.perf_counter()
                client.get(f"{path}/giong-may.mp3")
                again.append(time.perf_counter() - started)
            seconds = _seconds(media.content)
            made_total, tools_total = made_total + made, tools_total + tools
            audio_total, bytes_total = audio_total + seconds, bytes_total + len(media.content)
            print(f"{lesson.slug[:34]:34} {len(text):6} {seconds:8.1f} {made:7.2f} {tools:7.2f} "
                  f"{made / tools:6.2f} {statistics.median(again) * 1000:9.1f} "
                  f"{len(media.content) / 1000 / (seconds / 60):7.0f}")
        print(f"machine voice: {audio_total / 60:.1f} min of audio made in {made_total:.1f} s "
              f"({audio_total / made_total:.0f}× real time); ours/bare tools {made_total / tools_total:.2f}; "
              f"{bytes_total / 1000 / (audio_total / 60):.0f} KB per minute (budget 333)")

        page = client.get(f"/courses/{args.course}/{lessons[0].slug}").text
        listen = re.search(r'<section class="listen".*?</section>', page, re.S).group(0)
        print(f"lesson page: {len(page.encode())} bytes, of which the listen section "
              f"{len(listen.encode())} (audio fetched only when played)")

        token = _token(client, "/login")
        client.post("/login", data={"phone": "0912000111", "password": password, "csrf_token": token})
        with tempfile.TemporaryDirectory() as folder:
            heavy = _heavy_recording(Path(folder), minutes=3)
        token = _token(client, f"/studio-audio/{args.course}")
        started = time.perf_counter()
        upload = client.post(f"/studio-audio/{args.course}/{lessons[0].slug}", data={"csrf_token": token},
                             files={"audio": ("ghi-am.mp3", heavy, "audio/mpeg")})
        converting = time.perf_counter() - started
        assert upload.status_code == 303, upload.text[:500]
        kept = client.get(client.get(f"/courses/{args.course}/{lessons[0].slug}").text
                          .split('<audio controls preload="none" src="')[1].split('"')[0])
        print(f"recording: 3 min at 128 kbit/s stereo, {len(heavy) / 1000:.0f} KB → kept "
              f"{len(kept.content) / 1000:.0f} KB mono in {converting:.2f} s")

        token = _token(client, "/studio-bulletin")
        ids = [str(lesson.id) for lesson in lessons[:3]]
        started = time.perf_counter()
        bulletin = client.post("/studio-bulletin", data={"csrf_token": token, "lesson": ids})
        making = time.perf_counter() - started
        assert bulletin.headers["content-type"] == "audio/mpeg", bulletin.text[:500]
        seconds = _seconds(bulletin.content)
        print(f"bulletin of 3 lessons (1 recorded, 2 machine voice): {seconds / 60:.1f} min, "
              f"{len(bulletin.content) / 1000:.0f} KB, made in {making:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
