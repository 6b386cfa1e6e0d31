"""Lessons to listen to: staff's recordings (checked, fitted to the size budget, kept in the media
store), the machine voice (espeak-ng, made once per lesson version) and the commune loudspeaker's
bulletin (one MP3 of several lessons after a spoken intro).

Tools: espeak-ng (Debian `espeak-ng`) speaks, ffmpeg (Debian `ffmpeg`) encodes MP3, converts
recordings too heavy for their length and joins a bulletin. Without ffmpeg a recording over the
budget is refused with the limit named; without either, lessons offer only their recordings."""

import io
import logging
import re
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup
from sqlalchemy import and_, delete, select, update
from sqlmodel import Session

from lms.bulletin import BulletinChoice
from lms.context import Context
from lms.core.models import User
from lms.db import insert_ignore, utcnow
from lms.errors import NotFound, ServiceError
from lms.media import media_store, media_url
from lms.plugins.courses import authoring, speech
from lms.plugins.courses.models import BulletinMade, Course, Lesson, LessonRecording, LessonSpeech
from lms.plugins.courses.services import catalog_changed
from lms.text import nfc

log = logging.getLogger("lms.courses.audio")

VOICE = "vi"  # espeak-ng's Northern voice; vi-vn-x-central and vi-vn-x-south exist too
WORDS_PER_MINUTE = 145  # a little slower than espeak's 175: listeners who read poorly
MAX_SECONDS = 30 * 60
MIN_SECONDS = 1
# The budget: 1 MB per 3 minutes of audio (about 44 kbit/s).
BYTES_PER_SECOND = 1_000_000 / 180
# What a converted recording becomes: mono MP3 at 40 kbit/s, 24 kHz (900 KB per 3 minutes).
CONVERTED_BITRATE = "40k"
CONVERTED_RATE = "24000"
SPEECH_BITRATE = "32k"
SPEECH_RATE = "22050"
BULLETIN_BITRATE = "64k"
BULLETIN_PAUSE = 0.8  # seconds of silence after each part of a bulletin
BULLETIN_MAX_ITEMS = 12
SPEAKER_MAX = 120
# A claim older than this was left by a worker that stopped: another takes it over.
CLAIM_STALE = timedelta(seconds=120)
WAIT_SECONDS = 60.0
TOOL_TIMEOUT = 300
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
# Encoding is CPU heavy: one at a time per worker, the other thread waits.
_tool_slots = threading.BoundedSemaphore(1)

AUDIO_ERRORS = {
    "audio_empty": "Chưa có tệp nào được gửi lên. Vui lòng chọn tệp ghi âm rồi gửi lại.",
    "audio_too_large": "Tệp quá lớn (tối đa {limit}). Vui lòng chọn tệp nhỏ hơn.",
    "audio_not_audio": "Tệp này không phải tệp âm thanh MP3, M4A hoặc OGG (hoặc đã bị hỏng). "
                       "Vui lòng chọn đúng tệp ghi âm.",
    "audio_too_short": "Bản ghi quá ngắn (dưới 1 giây). Vui lòng ghi âm lại.",
    "audio_too_long": "Bản ghi dài {minutes}, quá giới hạn 30 phút cho một bài. "
                      "Vui lòng cắt bớt hoặc chia thành nhiều bài.",
    "audio_too_heavy": "Tệp nặng {size} cho {minutes} âm thanh, quá giới hạn 1 MB cho mỗi 3 phút "
                       "(bản này tối đa {limit}). Vui lòng xuất lại dạng MP3 một kênh, 32–40 kbps, "
                       "rồi tải lên.",
    "audio_speaker_too_long": f"Tên người ghi âm dài tối đa {SPEAKER_MAX} ký tự.",
    "audio_no_lesson": "Bài học này chưa được xuất bản nên chưa gắn được bản ghi âm. "
                       "Hãy xuất bản khóa học trước.",
    "speech_unavailable": "Máy chủ chưa có công cụ đọc bằng giọng máy (espeak-ng, ffmpeg). "
                          "Vui lòng báo quản trị viên.",
    "speech_failed": "Chưa tạo được giọng máy đọc cho bài này. Vui lòng thử lại sau ít phút.",
    "speech_busy": "Giọng máy đọc đang được tạo. Vui lòng thử lại sau ít phút.",
    "bulletin_empty": "Hãy chọn ít nhất một bài học hoặc một tin cho bản tin.",
    "bulletin_too_many": f"Một bản tin có tối đa {BULLETIN_MAX_ITEMS} mục (bài học và tin cộng lại).",
}


def _refuse(code: str, status: int = 422, **values: Any) -> ServiceError:
    return ServiceError(code, AUDIO_ERRORS[code].format(**values), status)


def tool(name: str) -> str | None:
    """The program's path, or None when it is not installed."""
    return shutil.which(name)


def speech_available() -> bool:
    return tool("espeak-ng") is not None and tool("ffmpeg") is not None


def _minutes(seconds: float) -> str:
    whole = int(round(seconds))
    minutes, rest = divmod(whole, 60)
    if not minutes:
        return f"{rest} giây"
    return f"{minutes} phút" + (f" {rest} giây" if rest else "")


def size_text(size: float) -> str:
    return f"{size / 1_000_000:.1f} MB".replace(".", ",") if size >= 1_000_000 else f"{int(size // 1000)} KB"


# --- Checking an upload ----------------------------------------------------------------------


@dataclass(frozen=True)
class AudioInfo:
    content_type: str
    duration: float  # seconds
    video: bool = False  # an MP4 with a picture track as well: kept only as its sound


def _magic(data: bytes) -> str | None:
    """The kind the first bytes claim: MP3 (an ID3 tag or a frame sync), M4A (an MP4 `ftyp`
    box of an audio brand), OGG (`OggS`)."""
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    if data[4:8] == b"ftyp" and data[8:12] in (b"M4A ", b"M4B ", b"mp42", b"mp41", b"isom", b"iso2", b"dash"):
        return "audio/mp4"
    if data[:4] == b"OggS":
        return "audio/ogg"
    return None


def inspect(data: bytes) -> AudioInfo:
    """The kind and length of an audio file, by its content: the magic bytes, then parsed by
    mutagen (every frame header for MP3, so a renamed file or random bytes are refused)."""
    kind = _magic(data)
    if kind is None:
        raise _refuse("audio_not_audio")
    video = False
    try:
        if kind == "audio/mpeg":
            from mutagen.mp3 import MP3

            info = MP3(io.BytesIO(data)).info
            # "sketchy": mutagen found frames only by searching, as in a file that is not MP3.
            if info.sketchy:
                raise ValueError("no MP3 stream")
        elif kind == "audio/mp4":
            from mutagen.mp4 import MP4

            info = MP4(io.BytesIO(data)).info
            if not str(getattr(info, "codec", "")).startswith("mp4a"):
                raise ValueError("not AAC audio")
            # A phone's video saved as .m4a: its track handlers say "vide".
            video = re.search(rb"hdlr.{8}vide", data, re.S) is not None
        else:
            info = _ogg_info(data)
    except Exception:  # noqa: BLE001 - mutagen raises many kinds for damaged files
        raise _refuse("audio_not_audio") from None
    length = float(getattr(info, "length", 0) or 0)
    if length <= 0:
        raise _refuse("audio_not_audio")
    return AudioInfo(kind, length, video)


def _ogg_info(data: bytes) -> Any:
    from mutagen.oggopus import OggOpus
    from mutagen.oggvorbis import OggVorbis

    for kind in (OggVorbis, OggOpus):
        try:
            return kind(io.BytesIO(data)).info
        except Exception:  # noqa: BLE001, S112 - not this codec: try the next
            continue
    raise ValueError("no Vorbis or Opus stream")


def _run(arguments: list[str], *, cwd: Path) -> None:
    with _tool_slots:
        done = subprocess.run(arguments, cwd=cwd, capture_output=True, timeout=TOOL_TIMEOUT, check=False)  # noqa: S603
    if done.returncode != 0:
        # The tools' messages name no person: file names here are ours.
        raise RuntimeError(f"{Path(arguments[0]).name} failed: {done.stderr[-300:].decode(errors='replace')}")


def _ffmpeg(*arguments: str) -> list[str]:
    return [tool("ffmpeg") or "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *arguments]


def to_mp3(data: bytes, *, bitrate: str = CONVERTED_BITRATE, rate: str = CONVERTED_RATE) -> bytes:
    """Any audio ffmpeg reads as mono MP3, metadata dropped."""
    with tempfile.TemporaryDirectory(prefix="lms-audio-") as folder:
        work = Path(folder)
        (work / "in").write_bytes(data)
        _run(_ffmpeg("-i", "in", "-vn", "-map_metadata", "-1", "-ac", "1", "-ar", rate, "-c:a", "libmp3lame",
                     "-b:a", bitrate, "-f", "mp3", "out.mp3"), cwd=work)
        return (work / "out.mp3").read_bytes()


@dataclass(frozen=True)
class PreparedAudio:
    data: bytes
    content_type: str
    duration: float
    converted: bool


def budget(duration: float) -> int:
    """The most bytes a recording of this length may weigh."""
    return int(duration * BYTES_PER_SECOND)


def prepare_recording(data: bytes, *, max_bytes: int) -> PreparedAudio:
    """Check an upload; a file over the budget is converted when ffmpeg is there, else refused.
    Raises ServiceError (AUDIO_ERRORS) and stores nothing. Pure: no database."""
    if not data:
        raise _refuse("audio_empty")
    if len(data) > max_bytes:
        raise _refuse("audio_too_large", 413, limit=size_text(max_bytes))
    info = inspect(data)
    if info.duration < MIN_SECONDS:
        raise _refuse("audio_too_short")
    if info.duration > MAX_SECONDS:
        raise _refuse("audio_too_long", minutes=_minutes(info.duration))
    if len(data) <= budget(info.duration) and not info.video:
        return PreparedAudio(data, info.content_type, info.duration, False)
    if tool("ffmpeg") is None and info.video:
        raise _refuse("audio_not_audio")
    if tool("ffmpeg") is None:
        raise _refuse("audio_too_heavy", size=size_text(len(data)), minutes=_minutes(info.duration),
                      limit=size_text(budget(info.duration)))
    try:
        converted = to_mp3(data)
        checked = inspect(converted)
    except (RuntimeError, ServiceError, subprocess.TimeoutExpired):
        raise _refuse("audio_not_audio") from None
    if len(converted) > budget(checked.duration):
        raise _refuse("audio_too_heavy", size=size_text(len(data)), minutes=_minutes(info.duration),
                      limit=size_text(budget(info.duration)))
    return PreparedAudio(converted, "audio/mpeg", checked.duration, True)


# --- Recordings ------------------------------------------------------------------------------


def _lesson_for_editor(db: Session, actor: User, lesson_id: int) -> tuple[Lesson, Course]:
    """The lesson if `actor` may edit its course: a commune's editor their commune's courses, an
    administrator every course (the installation's packs too). Else the same 404 as a wrong id."""
    authoring.require_editor(db, actor)
    lesson = db.get(Lesson, lesson_id)
    course = db.get(Course, lesson.course_id) if lesson is not None else None
    if lesson is None or course is None or lesson.retired or not authoring.may_edit(actor, course.commune_id):
        raise NotFound()
    return lesson, course


def editable_lesson(db: Session, actor: User, *, course_slug: str, lesson_slug: str) -> tuple[Lesson, Course]:
    course_id = db.execute(select(Course.id).where(Course.slug == course_slug)).scalar()
    lesson_id = db.execute(select(Lesson.id).where(Lesson.course_id == course_id, Lesson.slug == lesson_slug)
                           ).scalar() if course_id else None
    if lesson_id is None:
        authoring.require_editor(db, actor)
        raise NotFound()
    return _lesson_for_editor(db, actor, lesson_id)


def clean_speaker(name: str | None, fallback: str) -> str:
    value = " ".join(nfc(name or "").split())
    if len(value) > SPEAKER_MAX:
        raise _refuse("audio_speaker_too_long")
    return value or " ".join(nfc(fallback or "").split())[:SPEAKER_MAX]


def save_recording(ctx: Context, *, actor: User, lesson_id: int, data: bytes, speaker: str = "") -> LessonRecording:
    """Check, fit and store a recording of the lesson, replacing any earlier one; one unit of work.

    The file is checked (and converted) before any lock is taken; a refusal stores nothing."""
    with ctx.reading() as db:
        _lesson_for_editor(db, actor, lesson_id)
    name = clean_speaker(speaker, actor.full_name)
    prepared = prepare_recording(data, max_bytes=ctx.settings.media_max_upload_bytes)
    with ctx.transaction() as db:
        lesson, _course = _lesson_for_editor(db, actor, lesson_id)
        key = media_store(ctx.settings).put(db, prepared.data, prepared.content_type)
        row = db.get(LessonRecording, lesson.id) or LessonRecording(
            lesson_id=lesson.id, media_key=key, content_type=prepared.content_type, size=0, duration_ms=0)
        row.media_key, row.content_type, row.size = key, prepared.content_type, len(prepared.data)
        row.duration_ms = int(prepared.duration * 1000)
        row.speaker_name, row.uploaded_by_id, row.lesson_hash = name, actor.id, lesson.content_hash
        row.converted, row.uploaded_at = prepared.converted, utcnow()
        db.add(row)
        catalog_changed(db)  # lesson pages cache what they play
        return row


def remove_recording(ctx: Context, *, actor: User, lesson_id: int) -> bool:
    """The lesson goes back to the machine voice. The media file stays: its address may be
    cached by phones, and another lesson may hold the same bytes."""
    with ctx.transaction() as db:
        _lesson_for_editor(db, actor, lesson_id)
        removed = bool(db.execute(delete(LessonRecording).where(LessonRecording.lesson_id == lesson_id)).rowcount)
        if removed:
            catalog_changed(db)
        return removed


# --- What a lesson page plays ----------------------------------------------------------------


@dataclass(frozen=True)
class Listening:
    """The player of a lesson page: a recording (with who recorded it) or the machine voice."""

    url: str
    content_type: str
    recorded: bool
    speaker: str = ""
    duration_ms: int = 0

    @property
    def minutes(self) -> str:
        return _minutes(self.duration_ms / 1000) if self.duration_ms else ""


def voice_of(settings: Any) -> str:
    """The installation's espeak-ng voice (LMS_SPEECH_VOICE): Northern, Central or Southern."""
    return getattr(settings, "speech_voice", None) or VOICE


def _speech_where(lesson_id: int, content_hash: str, voice: str) -> Any:
    return and_(LessonSpeech.lesson_id == lesson_id, LessonSpeech.content_hash == content_hash,
                LessonSpeech.voice == voice, LessonSpeech.rules == speech.RULES_VERSION)


def listening(db: Session, *, lesson_id: int, lesson_path: str, voice: str = VOICE) -> Listening | None:
    """One indexed query: the recording, else the machine voice of this version (its media URL
    once made, else the address that makes it), else None when the server cannot speak."""
    row = db.execute(
        select(LessonRecording.media_key, LessonRecording.content_type, LessonRecording.speaker_name,
               LessonRecording.duration_ms, LessonSpeech.media_key, LessonSpeech.duration_ms)
        .select_from(Lesson)
        .join(LessonRecording, LessonRecording.lesson_id == Lesson.id, isouter=True)
        .join(LessonSpeech, and_(LessonSpeech.lesson_id == Lesson.id, LessonSpeech.content_hash == Lesson.content_hash,
                                 LessonSpeech.voice == voice, LessonSpeech.rules == speech.RULES_VERSION),
              isouter=True)
        .where(Lesson.id == lesson_id)
    ).first()
    if row is None:
        return None
    key, content_type, speaker, duration, speech_key, speech_duration = row
    if key:
        return Listening(media_url(key, content_type), content_type, True, speaker, duration)
    if speech_key:
        return Listening(media_url(speech_key, "audio/mpeg"), "audio/mpeg", False, "", speech_duration)
    if not speech_available():
        return None
    return Listening(f"{lesson_path}/giong-may.mp3", "audio/mpeg", False)


# --- The machine voice -----------------------------------------------------------------------


def synthesize(text: str, *, voice: str = VOICE) -> tuple[bytes, float]:
    """Vietnamese words (already expanded) spoken by espeak-ng, as mono MP3; (bytes, seconds)."""
    if not speech_available():
        raise _refuse("speech_unavailable", 503)
    with tempfile.TemporaryDirectory(prefix="lms-speech-") as folder:
        work = Path(folder)
        (work / "text.txt").write_text(text, "utf-8")
        _run([tool("espeak-ng") or "espeak-ng", "-v", voice, "-s", str(WORDS_PER_MINUTE), "-b", "1",
              "-f", "text.txt", "-w", "speech.wav"], cwd=work)
        _run(_ffmpeg("-i", "speech.wav", "-ac", "1", "-ar", SPEECH_RATE, "-c:a", "libmp3lame",
                     "-b:a", SPEECH_BITRATE, "-f", "mp3", "speech.mp3"), cwd=work)
        data = (work / "speech.mp3").read_bytes()
    return data, inspect(data).duration


def _claim(ctx: Context, lesson: Lesson) -> str | None:
    """Claim the making of this lesson version's audio: the token when this worker makes it,
    None when another does (its claim is fresh) or it is made."""
    token = secrets.token_hex(8)
    now = utcnow()
    voice = voice_of(ctx.settings)
    with ctx.transaction() as db:
        if insert_ignore(db, LessonSpeech, {
            "lesson_id": lesson.id, "content_hash": lesson.content_hash, "voice": voice,
            "rules": speech.RULES_VERSION, "media_key": None, "size": 0, "duration_ms": 0, "claim": token,
            "claimed_at": now, "generated_at": None, "generate_ms": 0,
        }, ["lesson_id", "content_hash", "voice", "rules"]):
            return token
        # A worker that stopped mid-way leaves a claim no one finishes: taken over once stale.
        taken = db.execute(update(LessonSpeech).where(
            _speech_where(lesson.id, lesson.content_hash, voice), LessonSpeech.media_key.is_(None),
            LessonSpeech.claimed_at < now - CLAIM_STALE).values(claim=token, claimed_at=now)).rowcount
        return token if taken else None


def _made(ctx: Context, lesson: Lesson) -> str | None:
    with ctx.reading() as db:
        return db.execute(select(LessonSpeech.media_key).where(
            _speech_where(lesson.id, lesson.content_hash, voice_of(ctx.settings)))).scalar()


def machine_audio(ctx: Context, *, lesson_id: int, wait: float = WAIT_SECONDS) -> str:
    """The media key of the machine voice of the lesson as it is now, made here if no worker has
    made it: once per lesson version, whatever the number of workers and hosts asking at once."""
    with ctx.reading() as db:
        lesson = db.get(Lesson, lesson_id)
        if lesson is None or lesson.retired:
            raise NotFound()
        db.expunge(lesson)
    deadline = time.monotonic() + wait
    while True:
        key = _made(ctx, lesson)
        if key:
            return key
        token = _claim(ctx, lesson)
        if token is not None:
            return _generate(ctx, lesson, token)
        if time.monotonic() > deadline:
            raise _refuse("speech_busy", 503)
        time.sleep(0.2)


def _generate(ctx: Context, lesson: Lesson, token: str) -> str:
    started = time.monotonic()
    voice = voice_of(ctx.settings)
    this_version = _speech_where(lesson.id, lesson.content_hash, voice)
    try:
        data, seconds = synthesize(speech.lesson_text(lesson.title, lesson.body_md), voice=voice)
    except (RuntimeError, ServiceError, subprocess.TimeoutExpired, OSError) as exc:
        # The claim goes, so the next listener tries again.
        with ctx.transaction() as db:
            db.execute(delete(LessonSpeech).where(this_version,
                                                  LessonSpeech.claim == token, LessonSpeech.media_key.is_(None)))
        log.error("machine voice failed for lesson %s: %s", lesson.id, exc)
        if isinstance(exc, ServiceError):
            raise
        raise _refuse("speech_failed", 503) from None
    elapsed = int((time.monotonic() - started) * 1000)
    with ctx.transaction() as db:
        key = media_store(ctx.settings).put(db, data, "audio/mpeg")
        db.execute(update(LessonSpeech).where(this_version).values(
            media_key=key, size=len(data), duration_ms=int(seconds * 1000), generated_at=utcnow(),
            generate_ms=elapsed))
        catalog_changed(db)  # lesson pages now link the file itself, with its length
    log.info("machine voice for lesson %s: %.1f s of audio, %d bytes, made in %d ms",
             lesson.id, seconds, len(data), elapsed)
    return key


# --- The loudspeaker bulletin ----------------------------------------------------------------


@dataclass(frozen=True)
class BulletinItem:
    """One part of a bulletin: audio already made (`media_key`), or words the machine speaks.
    Lessons are items, and so are other plugins' choices (lms.bulletin)."""

    title: str
    media_key: str | None = None
    text: str = ""
    announce: bool = True  # speak the title first (a recording may not say it)
    kind: str = ""  # read before the title ("Tin tức"); a lesson is "Bài <n>"


def vietnamese_date(day: date) -> str:
    return f"{day.day}/{day.month}/{day.year}"


def today() -> date:
    return datetime.now(VIETNAM).date()


def _lesson_items(ctx: Context, lesson_ids: list[int]) -> list[BulletinItem]:
    """The chosen lessons in the order given: each one's recording, else its machine voice."""
    items = []
    for lesson_id in lesson_ids:
        with ctx.reading() as db:
            lesson = db.get(Lesson, lesson_id)
            if lesson is None or lesson.retired:
                raise NotFound()
            recording = db.get(LessonRecording, lesson_id)
            title = lesson.title
            key = recording.media_key if recording else None
        if key is not None:
            items.append(BulletinItem(title, key, announce=True))
        else:
            # The machine voice starts with the lesson's title already.
            items.append(BulletinItem(title, machine_audio(ctx, lesson_id=lesson_id), announce=False))
    return items


def bulletin_items(ctx: Context, *, lesson_ids: list[int], choices: list[BulletinChoice]) -> list[BulletinItem]:
    """Other plugins' choices first (news is what is new this week), then the lessons."""
    if not lesson_ids and not choices:
        raise _refuse("bulletin_empty")
    if len(lesson_ids) + len(choices) > BULLETIN_MAX_ITEMS:
        raise _refuse("bulletin_too_many")
    offered = [BulletinItem(choice.title, choice.media_key, choice.text, kind=choice.group) for choice in choices]
    return offered + _lesson_items(ctx, lesson_ids)


@dataclass(frozen=True)
class Bulletin:
    data: bytes
    duration: float
    parts: tuple[float, ...]  # seconds of each part joined, intro first


def make_bulletin(ctx: Context, *, commune_name: str, items: list[BulletinItem], day: date | None = None) -> Bulletin:
    """One MP3 for the village loudspeaker: a spoken intro, then every item, then a close."""
    if not items:
        raise _refuse("bulletin_empty")
    if not speech_available():
        raise _refuse("speech_unavailable", 503)
    day = day or today()
    place = f" của {commune_name}" if commune_name else ""
    parts: list[bytes] = []
    intro = (f"Bản tin Bình dân học vụ số{place}, ngày {vietnamese_date(day)}. "
             f"Bản tin gồm {len(items)} mục.")
    voice = voice_of(ctx.settings)
    parts.append(synthesize(speech.expand(intro), voice=voice)[0])
    store = media_store(ctx.settings)
    lessons = 0
    for item in items:
        if not item.kind:
            lessons += 1
        if item.announce:
            heading = item.kind or f"Bài {lessons}"
            parts.append(synthesize(speech.expand(f"{heading}: {item.title}."), voice=voice)[0])
        if item.media_key:
            with ctx.reading() as db:
                data = store.get(db, item.media_key)
            if data is None:
                raise NotFound()
            parts.append(data)
        elif item.text:
            parts.append(synthesize(speech.expand(item.text), voice=voice)[0])
    parts.append(synthesize("Hết bản tin. Cảm ơn bà con đã lắng nghe.", voice=voice)[0])
    durations = tuple(inspect(part).duration for part in parts)
    return Bulletin(join(parts), sum(durations) + BULLETIN_PAUSE * len(parts), durations)


def record_bulletin(ctx: Context, *, actor: Any, commune_id: int | None, items: list[BulletinItem],
                    bulletin: Bulletin) -> None:
    """Keep that the commune made a bulletin, and of what: the plan's follow-up counts them."""
    with ctx.transaction() as db:
        db.add(BulletinMade(commune_id=commune_id, made_by_id=actor.id, titles=[item.title for item in items],
                            seconds=round(bulletin.duration)))


def join(parts: list[bytes]) -> bytes:
    """Audio files one after another, a short pause after each, as one mono MP3 at 44.1 kHz
    (decoded and encoded again: parts differ in kind, rate and channels)."""
    with tempfile.TemporaryDirectory(prefix="lms-bulletin-") as folder:
        work = Path(folder)
        inputs: list[str] = []
        chains = []
        for index, data in enumerate(parts):
            (work / f"part{index}").write_bytes(data)
            inputs += ["-i", f"part{index}"]
            chains.append(f"[{index}:a]aresample=44100,aformat=channel_layouts=mono,"
                          f"apad=pad_dur={BULLETIN_PAUSE}[a{index}]")
        graph = ";".join(chains) + ";" + "".join(f"[a{i}]" for i in range(len(parts))) + \
            f"concat=n={len(parts)}:v=0:a=1[out]"
        _run(_ffmpeg(*inputs, "-filter_complex", graph, "-map", "[out]", "-map_metadata", "-1",
                     "-c:a", "libmp3lame", "-b:a", BULLETIN_BITRATE, "-f", "mp3", "bulletin.mp3"), cwd=work)
        return (work / "bulletin.mp3").read_bytes()


def bulletin_filename(day: date) -> str:
    return f"ban-tin-{day.isoformat()}.mp3"


# --- The phone's own voice -------------------------------------------------------------------

# Shown only when the phone has a Vietnamese voice; reads the lesson's text aloud. Inline (no
# extra request on a lesson page), allowed by the Content-Security-Policy through the plugin's
# hook `inline_scripts`.
BROWSER_VOICE_SCRIPT = (
    '(function(){var s=window.speechSynthesis,b=document.getElementById("doc-bang-may");'
    'if(!s||!b||!window.SpeechSynthesisUtterance)return;'
    'function v(){return s.getVoices().filter(function(x){return/^vi([-_]|$)/i.test(x.lang)})[0]}'
    'function show(){if(v())b.hidden=false}show();s.addEventListener("voiceschanged",show);'
    'b.addEventListener("click",function(){if(s.speaking){s.cancel();b.textContent=b.dataset.read;return}'
    'var t=document.querySelector(".lesson-body"),u=new SpeechSynthesisUtterance('
    'document.querySelector(".lesson h1").innerText+". "+(t?t.innerText:""));'
    'u.lang="vi-VN";u.voice=v();u.rate=0.9;u.onend=function(){b.textContent=b.dataset.read};'
    's.speak(u);b.textContent=b.dataset.stop})})()'
)

def browser_voice_tag() -> Markup:
    return Markup(f"<script>{BROWSER_VOICE_SCRIPT}</script>")  # noqa: S704 - a constant, no user input


def course_for_editor(db: Session, actor: User, course_slug: str) -> tuple[Course, list[Lesson], dict[int, Any]]:
    """A course whose lessons `actor` may record, its lessons in order and their recordings."""
    authoring.require_editor(db, actor)
    course = db.execute(select(Course).where(Course.slug == course_slug)).scalars().first()
    if course is None or course.retired or not authoring.may_edit(actor, course.commune_id):
        raise NotFound()
    lessons = list(db.execute(select(Lesson).where(Lesson.course_id == course.id, Lesson.retired.is_(False))
                              .order_by(Lesson.position)).scalars().all())
    recordings = {r.lesson_id: r for r in db.execute(select(LessonRecording).where(
        LessonRecording.lesson_id.in_([lesson.id for lesson in lessons]))).scalars().all()} if lessons else {}
    return course, lessons, recordings
