"""Lessons to listen to: recordings uploaded by editors (checked, fitted, served with Range), the
machine voice made once per lesson version with espeak-ng, and the loudspeaker bulletin."""

import io
import logging
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from mutagen.mp3 import MP3
from sqlalchemy import func, select

from lms.core.models import User
from lms.media import MediaFile
from lms.plugin_host import flatten
from lms.plugins.courses import audio, speech
from lms.plugins.courses.models import BulletinMade, Lesson, LessonRecording, LessonSpeech
from tests.courses.test_authoring import _create, _lesson, _publish, body
from tests.factories import csrf, fresh, login, make_user, text_of

TOOLS = ("espeak-ng", "ffmpeg", "ffprobe")
pytestmark = pytest.mark.skipif(
    any(shutil.which(t) is None for t in TOOLS) and os.environ.get("CI") != "true",
    reason="needs espeak-ng and ffmpeg (apt-get install espeak-ng ffmpeg)")


def _ffmpeg(*arguments: str, out: Path) -> bytes:
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *arguments, str(out)], check=True)
    return out.read_bytes()


@pytest.fixture(scope="module")
def sounds(tmp_path_factory) -> dict[str, bytes]:
    """Real audio made here: a spoken MP3 and OGG (espeak-ng), a heavy MP3, a 31-minute one."""
    folder = tmp_path_factory.mktemp("sounds")
    wav = folder / "voice.wav"
    subprocess.run(["espeak-ng", "-v", "vi", "-w", str(wav),
                    "Xin chào bà con. Đây là bản ghi âm bài học về cách chuyển tiền an toàn. " * 3], check=True)
    return {
        "mp3": _ffmpeg("-i", str(wav), "-ac", "1", "-c:a", "libmp3lame", "-b:a", "32k", out=folder / "v.mp3"),
        "ogg": _ffmpeg("-i", str(wav), "-ac", "1", "-c:a", "libvorbis", "-q:a", "0", out=folder / "v.ogg"),
        "m4a": _ffmpeg("-i", str(wav), "-ac", "1", "-c:a", "aac", "-b:a", "24k", out=folder / "v.m4a"),
        # A phone's video sent as .m4a: a picture track beside the AAC sound, light enough to fit.
        "video": _ffmpeg("-f", "lavfi", "-i", "color=c=green:s=64x64:r=5", "-i", str(wav), "-shortest",
                         "-c:v", "libx264", "-b:v", "8k", "-c:a", "aac", "-b:a", "16k", "-f", "mp4",
                         out=folder / "video.m4a"),
        "heavy": _ffmpeg("-i", str(wav), "-ac", "2", "-ar", "44100", "-c:a", "libmp3lame", "-b:a", "192k",
                         out=folder / "heavy.mp3"),
        "long": _ffmpeg("-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", "1900", "-c:a", "libmp3lame",
                        "-b:a", "8k", out=folder / "long.mp3"),
    }


def _duration(data: bytes) -> float:
    return MP3(io.BytesIO(data)).info.length


def _published(client, title="Chuyển tiền an toàn", text=None) -> tuple[int, str, str]:
    draft_id = _create(client)
    slug = _lesson(client, draft_id, title, text or body("Bài học về chuyển tiền."))
    assert _publish(client, draft_id).status_code == 303
    course_slug = client.get(f"/studio/{draft_id}").text.split('href="/studio-audio/')[1].split('"')[0]
    return draft_id, course_slug, slug


def _upload(client, course_slug, lesson_slug, data, name="ghi-am.mp3", speaker="", token=None):
    token = token or csrf(client, f"/studio-audio/{course_slug}")
    return client.post(f"/studio-audio/{course_slug}/{lesson_slug}",
                       data={"csrf_token": token, "speaker": speaker},
                       files={"audio": (name, data, "application/octet-stream")})


def _counts(db) -> tuple[int, int]:
    fresh(db)
    return (db.execute(select(func.count()).select_from(MediaFile)).scalar(),
            db.execute(select(func.count()).select_from(LessonRecording)).scalar())


def test_editor_uploads_replaces_and_removes_a_recording(client, make_client, db, settings, commune_editor,
                                                        sounds):
    places, other, editor, admin_client = commune_editor
    _draft_id, course_slug, lesson_slug = _published(client)
    lesson_path = f"/courses/{course_slug}/{lesson_slug}"
    response = _upload(client, course_slug, lesson_slug, sounds["mp3"], speaker="Chị Lê Thị Hoa")
    assert response.status_code == 303, text_of(response.text)
    row = db.execute(select(LessonRecording)).scalars().one()
    assert (row.content_type, row.speaker_name, row.converted) == ("audio/mpeg", "Chị Lê Thị Hoa", False)
    assert abs(row.duration_ms / 1000 - _duration(sounds["mp3"])) < 0.1
    assert row.size == len(sounds["mp3"])

    # The learner of the commune hears it, credited, fetched only when played.
    learner = make_client()
    login(learner, make_user(db, settings, village=places.villages[0]).phone)
    page = learner.get(lesson_path).text
    url = f"/media/{row.media_key}.mp3"
    assert f'<audio controls preload="none" src="{url}">' in page
    assert "Ghi âm bởi Chị Lê Thị Hoa" in text_of(page) and "Giọng máy đọc" not in text_of(page)
    assert "autoplay" not in page
    whole = learner.get(url)
    assert whole.content == sounds["mp3"] and whole.headers["accept-ranges"] == "bytes"
    part = learner.get(url, headers={"Range": "bytes=1000-"})
    size = len(sounds["mp3"])
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 1000-{size - 1}/{size}"
    assert part.content == sounds["mp3"][1000:]

    # The uploader's own name when none is typed; an OGG replaces the MP3.
    assert _upload(client, course_slug, lesson_slug, sounds["ogg"], name="b.ogg").status_code == 303
    fresh(db)
    row = db.execute(select(LessonRecording)).scalars().one()
    assert (row.content_type, row.speaker_name) == ("audio/ogg", "Cán Bộ Văn Hóa")
    assert f'src="/media/{row.media_key}.ogg"' in learner.get(lesson_path).text
    assert "Ghi âm bởi Cán Bộ Văn Hóa" in text_of(client.get(f"/studio-audio/{course_slug}").text)

    # Removed: back to the machine voice.
    token = csrf(client, f"/studio-audio/{course_slug}")
    assert client.post(f"/studio-audio/{course_slug}/{lesson_slug}/remove",
                       data={"csrf_token": token}).status_code == 303
    assert _counts(db)[1] == 0
    page = learner.get(lesson_path).text
    assert "Giọng máy đọc" in text_of(page) and f'src="{lesson_path}/giong-may.mp3"' in page


def test_who_may_upload(client, make_client, db, settings, commune_editor, sounds):
    places, other, editor, admin_client = commune_editor
    _draft_id, course_slug, lesson_slug = _published(client)
    before = _counts(db)
    path = f"/studio-audio/{course_slug}/{lesson_slug}"
    # Anonymous: to the log-in page; a learner and a team member: refused; nothing stored.
    anonymous = make_client()
    assert anonymous.get(f"/studio-audio/{course_slug}").status_code == 303
    assert anonymous.post(path, data={"csrf_token": csrf(anonymous, "/login")},
                          files={"audio": ("a.mp3", sounds["mp3"])}).status_code in (303, 403)
    for role in ("learner", "team_member"):
        person = make_client()
        login(person, make_user(db, settings, role=role, commune=places.commune,
                                village=places.villages[0]).phone)
        assert person.get(f"/studio-audio/{course_slug}").status_code == 403
        assert _upload(person, course_slug, lesson_slug, sounds["mp3"], token=csrf(person, "/")).status_code == 403
    # Staff of the commune without the editor's permission are told who gives it.
    staff = make_client()
    login(staff, make_user(db, settings, role="staff", commune=places.commune).phone)
    assert "chưa được giao soạn khóa học" in text_of(staff.get(f"/studio-audio/{course_slug}").text)
    assert _upload(staff, course_slug, lesson_slug, sounds["mp3"], token=csrf(staff, "/")).status_code == 403
    # Another commune's editor does not see the course at all.
    stranger = make_user(db, settings, role="staff", commune=other.commune)
    from tests.factories import post_form

    assert post_form(admin_client, f"/studio-editors/{stranger.id}", {"allowed": "1"},
                     page="/studio-editors").status_code == 303
    foreign = make_client()
    login(foreign, stranger.phone)
    assert foreign.get(f"/studio-audio/{course_slug}").status_code == 404
    assert _upload(foreign, course_slug, lesson_slug, sounds["mp3"], token=csrf(foreign, "/studio")).status_code == 404
    # Without the CSRF token a form is refused even from the editor.
    assert client.post(path, files={"audio": ("a.mp3", sounds["mp3"])}).status_code == 403
    assert _counts(db) == before
    # The administrator may.
    assert _upload(admin_client, course_slug, lesson_slug, sounds["mp3"]).status_code == 303
    assert _counts(db)[1] == 1


def test_refused_uploads_say_why_and_store_nothing(client, db, commune_editor, sounds, monkeypatch):
    _draft_id, course_slug, lesson_slug = _published(client)
    before = _counts(db)
    text = "Đây không phải âm thanh. ".encode() * 200
    cases = [
        (text, "renamed.mp3", "không phải tệp âm thanh MP3, M4A hoặc OGG"),
        (b"ID3" + text, "fake.mp3", "không phải tệp âm thanh MP3, M4A hoặc OGG"),
        (sounds["long"], "long.mp3", "quá giới hạn 30 phút"),
        (b"", "empty.mp3", "Chưa có tệp nào"),
    ]
    for data, name, message in cases:
        response = _upload(client, course_slug, lesson_slug, data, name=name)
        assert response.status_code in (413, 422), name
        assert message in text_of(response.text), name
    assert _counts(db) == before

    # Heavier than 1 MB per 3 minutes and no ffmpeg on this host: refused, with the limit named.
    seconds = _duration(sounds["heavy"])
    monkeypatch.setenv("PATH", "/nonexistent")
    response = _upload(client, course_slug, lesson_slug, sounds["heavy"], name="heavy.mp3")
    assert response.status_code == 422
    page = text_of(response.text)
    assert "quá giới hạn 1 MB cho mỗi 3 phút" in page
    assert f"tối đa {audio.budget(seconds) // 1000} KB" in page
    assert _counts(db) == before


def test_an_m4a_from_a_phone_is_kept_as_it_is_and_a_video_only_as_its_sound(client, db, commune_editor, sounds):
    _draft_id, course_slug, lesson_slug = _published(client)
    assert _upload(client, course_slug, lesson_slug, sounds["m4a"], name="ghi-am.m4a").status_code == 303
    row = db.execute(select(LessonRecording)).scalars().one()
    assert (row.content_type, row.converted, row.size) == ("audio/mp4", False, len(sounds["m4a"]))
    assert db.get(MediaFile, row.media_key).data == sounds["m4a"]
    page = client.get(f"/courses/{course_slug}/{lesson_slug}").text
    assert f'src="/media/{row.media_key}.m4a"' in page
    served = client.get(f"/media/{row.media_key}.m4a", headers={"Range": "bytes=0-99"})
    assert served.status_code == 206 and served.headers["content-type"] == "audio/mp4"

    video = sounds["video"]
    assert len(video) <= audio.budget(audio.inspect(video).duration) and audio.inspect(video).video
    assert _upload(client, course_slug, lesson_slug, video, name="quay-phim.m4a").status_code == 303
    fresh(db)
    row = db.execute(select(LessonRecording)).scalars().one()
    assert (row.content_type, row.converted) == ("audio/mpeg", True)
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0", "-"],
                           input=db.get(MediaFile, row.media_key).data, capture_output=True, check=True)
    assert probe.stdout.split() == [b"audio"]


def test_heavy_recording_is_converted_to_fit(client, db, commune_editor, sounds):
    _draft_id, course_slug, lesson_slug = _published(client)
    seconds = _duration(sounds["heavy"])
    assert len(sounds["heavy"]) > audio.budget(seconds)
    assert _upload(client, course_slug, lesson_slug, sounds["heavy"], name="heavy.mp3").status_code == 303
    row = db.execute(select(LessonRecording)).scalars().one()
    stored = db.get(MediaFile, row.media_key).data
    assert row.converted and row.size == len(stored) <= audio.budget(seconds)
    info = MP3(io.BytesIO(stored)).info
    assert info.channels == 1 and abs(info.length - seconds) < 0.3
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", "-"],
                           input=stored, capture_output=True, check=True)
    assert probe.stdout.strip() == b"mp3"


def test_machine_voice_is_made_once_per_lesson_version(client, make_client, db, settings, commune_editor, app,
                                                       caplog):
    places = commune_editor[0]
    draft_id, course_slug, lesson_slug = _published(client, text=body("Phí 1.250.000 đồng, hạn 15/10/2025."))
    lesson_path = f"/courses/{course_slug}/{lesson_slug}"
    page = client.get(lesson_path)
    assert "Giọng máy đọc" in text_of(page.text)
    assert f'<audio controls preload="none" src="{lesson_path}/giong-may.mp3">' in page.text
    caplog.set_level(logging.INFO, logger="lms.courses.audio")

    first = client.get(f"{lesson_path}/giong-may.mp3")
    assert first.status_code == 302 and first.headers["cache-control"] == "no-cache"
    location = first.headers["location"]
    assert re.fullmatch(r"/media/[0-9a-f]{64}\.mp3", location)
    data = client.get(location).content
    assert MP3(io.BytesIO(data)).info.length > 10  # the whole lesson, not a word
    # A second listen, another worker: the same file, never made again; the page now points at it.
    learner = make_client()
    login(learner, make_user(db, settings, village=places.villages[0]).phone)
    again = learner.get(f"{lesson_path}/giong-may.mp3")
    assert again.headers["location"] == location
    assert f'src="{location}"' in client.get(lesson_path).text
    rows = db.execute(select(LessonSpeech)).scalars().all()
    assert len(rows) == 1 and rows[0].media_key and rows[0].generate_ms > 0
    assert len([r for r in caplog.records if "machine voice for lesson" in r.getMessage()]) == 1

    # A new version of the lesson has its own voice, made on its first listen.
    _lesson(client, draft_id, "Chuyển tiền an toàn", body("Nội dung mới, 2 bước."), slug=lesson_slug)
    assert _publish(client, draft_id).status_code == 303
    assert f'src="{lesson_path}/giong-may.mp3"' in client.get(lesson_path).text
    assert client.get(f"{lesson_path}/giong-may.mp3").headers["location"] != location
    fresh(db)
    assert db.execute(select(func.count()).select_from(LessonSpeech)).scalar() == 2


def test_machine_voice_two_workers_at_once_make_it_once(client, db, commune_editor, app, caplog):
    _draft_id, course_slug, lesson_slug = _published(client)
    lesson_id = db.execute(select(Lesson.id).where(Lesson.slug == lesson_slug)).scalar()
    caplog.set_level(logging.INFO, logger="lms.courses.audio")
    keys: list[str] = []
    start = threading.Barrier(3)

    def listen() -> None:
        start.wait()
        keys.append(audio.machine_audio(app.state.context, lesson_id=lesson_id))

    threads = [threading.Thread(target=listen) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(keys) == 3 and len(set(keys)) == 1
    assert len([r for r in caplog.records if "machine voice for lesson" in r.getMessage()]) == 1
    fresh(db)
    assert db.execute(select(func.count()).select_from(LessonSpeech)).scalar() == 1


def test_bulletin_joins_intro_and_chosen_lessons(client, make_client, db, settings, commune_editor, app, sounds,
                                                 tmp_path):
    places, other, editor, admin_client = commune_editor
    draft_id = _create(client)
    first = _lesson(client, draft_id, "Chuyển tiền an toàn", body("Bài một."))
    second = _lesson(client, draft_id, "Cài VNeID", body("Bài hai, gọi 0912 345 678."))
    assert _publish(client, draft_id).status_code == 303
    course_slug = client.get(f"/studio/{draft_id}").text.split('href="/studio-audio/')[1].split('"')[0]
    assert _upload(client, course_slug, first, sounds["mp3"]).status_code == 303
    ids = {slug: db.execute(select(Lesson.id).where(Lesson.slug == slug)).scalar() for slug in (first, second)}

    # Any staff of the commune makes a bulletin (no editor's permission needed); learners cannot.
    staff = make_client()
    login(staff, make_user(db, settings, role="staff", commune=places.commune).phone)
    form = staff.get("/studio-bulletin")
    assert form.status_code == 200
    assert "Chuyển tiền an toàn" in text_of(form.text) and f'value="{ids[second]}"' in form.text
    learner = make_client()
    login(learner, make_user(db, settings, village=places.villages[0]).phone)
    assert learner.get("/studio-bulletin").status_code == 403

    token = csrf(staff, "/studio-bulletin")
    empty = staff.post("/studio-bulletin", data={"csrf_token": token})
    assert empty.status_code == 422 and "Hãy chọn ít nhất một bài học" in text_of(empty.text)
    response = staff.post("/studio-bulletin", data={"csrf_token": token, "lesson": [str(ids[first]), str(ids[second])]})
    assert response.status_code == 200, text_of(response.text)
    assert response.headers["content-type"] == "audio/mpeg"
    assert re.fullmatch(r'attachment; filename="ban-tin-\d{4}-\d{2}-\d{2}\.mp3"',
                        response.headers["content-disposition"])
    total = _duration(response.content)

    # Its parts as made apart: the intro naming the commune, the recorded lesson after its title,
    # the other lesson's machine voice (which says its title), the close; a pause after each.
    day = audio.today()
    intro = speech.expand(f"Bản tin Bình dân học vụ số của {places.commune.name}, ngày {audio.vietnamese_date(day)}. "
                          "Bản tin gồm 2 mục.")
    assert intro.startswith("Bản tin Bình dân học vụ số của Xã Minh Châu, ngày")
    fresh(db)
    voice_key = db.execute(select(LessonSpeech.media_key).where(LessonSpeech.lesson_id == ids[second])).scalar()
    parts = [audio.synthesize(intro)[1], audio.synthesize(speech.expand("Bài 1: Chuyển tiền an toàn."))[1],
             _duration(sounds["mp3"]), _duration(db.get(MediaFile, voice_key).data),
             audio.synthesize("Hết bản tin. Cảm ơn bà con đã lắng nghe.")[1]]
    expected = sum(parts) + audio.BULLETIN_PAUSE * len(parts)
    assert abs(total - expected) < 1.0, (total, expected)
    saved = tmp_path / "bulletin.mp3"
    saved.write_bytes(response.content)
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration:stream=codec_name,channels",
                            "-of", "default=nw=1", str(saved)], capture_output=True, check=True)
    out = probe.stdout.decode()
    assert "codec_name=mp3" in out and "channels=1" in out
    assert abs(float(re.search(r"duration=([\d.]+)", out).group(1)) - expected) < 1.0

    # A lesson of another commune's course is not offered and not taken.
    assert staff.post("/studio-bulletin", data={"csrf_token": token, "lesson": ["999999"]}).status_code == 422

    # The bulletin made is kept (not its audio): listed for the commune and offered as plan evidence.
    made = text_of(staff.get("/studio-bulletin/da-lam").text)
    assert f"Bản tin ngày {day:%d/%m/%Y}" in made and "Chuyển tiền an toàn" in made and "Cài VNeID" in made
    fresh(db)
    bulletin = db.execute(select(BulletinMade)).scalars().one()
    assert bulletin.commune_id == places.commune.id and abs(bulletin.seconds - expected) < 1.5
    staff_user = db.get(User, bulletin.made_by_id)
    evidence = [c for c in flatten(app.state.pm.hook.evidence_choices(db=db, user=staff_user))
                if c.key == f"ban-tin:{bulletin.id}"]
    assert evidence and evidence[0].title.startswith(f"Bản tin ngày {day:%d/%m/%Y} (2 mục: Chuyển tiền an toàn")
    elsewhere = make_client()
    login(elsewhere, make_user(db, settings, role="staff", commune=other.commune).phone)
    assert "Chuyển tiền an toàn" not in elsewhere.get("/studio-bulletin/da-lam").text
    assert learner.get("/studio-bulletin/da-lam").status_code == 403


def test_personal_data_of_a_recording(client, db, commune_editor, sounds, app):
    places, other, editor, admin_client = commune_editor
    _draft_id, course_slug, lesson_slug = _published(client)
    assert _upload(client, course_slug, lesson_slug, sounds["mp3"]).status_code == 303
    from lms.plugins.courses.personal_data import personal_data_erase, personal_data_export

    sections = {s.table: s for s in personal_data_export(db=db, user=editor)}
    assert sections["courses_lesson_recording"].rows[0]["Người đọc"] == "Cán Bộ Văn Hóa"
    with app.state.context.transaction() as session:
        notes = {n.table: n for n in personal_data_erase(db=session, user=editor, actor=editor)}
    assert (notes["courses_lesson_recording"].action, notes["courses_lesson_recording"].count) == ("anonymised", 1)
    fresh(db)
    row = db.execute(select(LessonRecording)).scalars().one()
    assert row.uploaded_by_id is None and row.speaker_name == ""
    page = text_of(client.get(f"/courses/{course_slug}/{lesson_slug}").text)
    assert "Bản ghi âm của người đọc" in page and "Cán Bộ Văn Hóa" not in page


def test_an_installation_in_the_south_hears_the_southern_voice(client, db, commune_editor, make_settings, engine):
    from fastapi.testclient import TestClient

    from lms.app import create_app

    _draft_id, course_slug, lesson_slug = _published(client)
    lesson_path = f"/courses/{course_slug}/{lesson_slug}"
    northern = client.get(client.get(f"{lesson_path}/giong-may.mp3").headers["location"]).content
    southern_app = create_app(make_settings(speech_voice="vi-vn-x-south"))
    with TestClient(southern_app, follow_redirects=False) as south:
        login(south, commune_editor[2].phone)  # a commune's own course: its editor may listen
        location = south.get(f"{lesson_path}/giong-may.mp3").headers["location"]
        southern = south.get(location).content
        assert f'src="{location}"' in south.get(lesson_path).text
    fresh(db)
    assert sorted(db.execute(select(LessonSpeech.voice)).scalars().all()) == ["vi", "vi-vn-x-south"]
    assert southern != northern and _duration(southern) > 10
