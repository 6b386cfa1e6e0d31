"""Uploaded media: content-addressed files kept in the database or in a folder all hosts share,
and images made safe and small for phones.

For the editor (images)::

    image = store_image(ctx, data, alt="Sơ đồ các bước đăng nhập VNeID")  # its own unit of work
    image.tag()              # <img src=… srcset=… sizes=… width=… height=… alt=…>
    image.to_dict()          # to keep in a JSON column; StoredImage.from_dict() reads it back

or, to save an image in the same unit of work as the page that uses it::

    prepared = prepare_image(data, alt=alt, max_bytes=ctx.settings.media_max_upload_bytes)  # no lock held
    with ctx.transaction() as db:
        image = save_image(db, media_store(ctx.settings), prepared)

A refused upload raises `lms.errors.ServiceError` with a stable code (`MEDIA_ERRORS`) and a
Vietnamese message; nothing is stored. Lesson Markdown can name a variant by its URL
(`/media/<key>.webp`): `key_from_url` and `load_image` give back every width for `srcset`.

Other media (lesson audio next) go through the same store: `media_store(settings).put(db, data,
"audio/mpeg")` gives the key, `media_url(key, content_type)` the address served with Range and
ETag by lms.core.media_router.
"""

import contextlib
import hashlib
import io
import os
import re
import secrets
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from markupsafe import Markup
from sqlalchemy import Column, LargeBinary, func, select
from sqlmodel import Field, Session, SQLModel

from lms.db import insert_ignore, utcnow
from lms.errors import ServiceError
from lms.text import nfc

# Content types the site stores and serves, with the extension of their URL. Only passive
# kinds: a stored text/html or SVG would run script on the site's own origin.
CONTENT_TYPES = {
    "image/webp": "webp",
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "audio/aac": "aac",
    "audio/ogg": "ogg",
    "audio/webm": "weba",
    "audio/wav": "wav",
    "video/mp4": "mp4",
    "video/webm": "webm",
}
KEY_PATTERN = re.compile(r"[0-9a-f]{64}")
_URL = re.compile(r"/media/([0-9a-f]{64})\.([a-z0-9]{2,5})")

# Widths made of every image (never wider than the original), and the byte budget at 800 px;
# other widths get the same budget per pixel of width squared.
IMAGE_WIDTHS = (400, 800, 1200)
BUDGET_WIDTH = 800
BUDGET_BYTES = 150_000
QUALITY_STEPS = (82, 76, 70, 64, 58, 52, 46, 40, 34, 28)
# Larger than any phone photo the upload cap lets through; below Pillow's own bomb limit.
MAX_IMAGE_PIXELS = 64_000_000
ALT_MAX_LENGTH = 300
DEFAULT_SIZES = "(max-width: 840px) 100vw, 800px"
# Decoding and encoding are CPU and memory heavy: at most two images at a time per worker.
_image_slots = threading.BoundedSemaphore(2)

# JPEG covers MPO (several pictures in one JPEG, from some cameras): its opener returns either.
_ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
# Markers of markup or script hidden in an image (a polyglot), searched in the lower-cased
# bytes. They are long enough that a photo's compressed bytes hold one by chance less than once
# in 50,000 uploads at the 10 MB cap (so no bare "<svg"); what is not caught is dropped anyway,
# since only decoded pixels are re-encoded and kept. Three searches that each start with a
# literal take 80 ms for 10 MB, where one case-insensitive alternation took 0.8 s.
_ACTIVE_CONTENT = (
    re.compile(rb"<(?:script|iframe|object|embed|!doctype|\?php\s|html[\s>]|body[\s>]|meta[\s/])"),
    re.compile(rb"on(?:error|load|click|mouseover)\s*="),
    re.compile(rb"(?:java|vb)script:"),
)

MEDIA_ERRORS = {
    "media_alt_missing": "Vui lòng nhập mô tả ảnh (chữ thay thế) để người không xem được ảnh vẫn hiểu nội dung.",
    "media_alt_too_long": f"Mô tả ảnh dài tối đa {ALT_MAX_LENGTH} ký tự.",
    "media_empty": "Chưa có tệp nào được gửi lên. Vui lòng chọn ảnh rồi gửi lại.",
    "media_too_large": "Tệp quá lớn (tối đa {limit}). Vui lòng chọn ảnh nhỏ hơn "
                       "hoặc chụp lại với độ phân giải thấp hơn.",
    "media_svg": "Không nhận ảnh SVG vì loại tệp này có thể chứa mã chạy trên trang. "
                 "Vui lòng lưu ảnh dưới dạng PNG hoặc JPEG rồi tải lên lại.",
    "media_heic": "Chưa nhận ảnh HEIC của iPhone. Vui lòng chuyển ảnh sang JPEG "
                  "(Cài đặt → Camera → Định dạng → Tương thích nhất) rồi tải lên lại.",
    "media_active_content": "Tệp ảnh này có chứa mã hoặc một tệp khác ghép kèm nên không được nhận. "
                            "Vui lòng mở ảnh, lưu lại thành tệp mới rồi tải lên.",
    "media_not_image": "Tệp này không phải là ảnh, hoặc là loại ảnh chưa hỗ trợ. "
                       "Vui lòng chọn ảnh JPEG, PNG, WebP hoặc GIF.",
    "media_too_many_pixels": "Ảnh có kích thước quá lớn (tối đa {megapixels} triệu điểm ảnh). "
                             "Vui lòng thu nhỏ ảnh rồi tải lên lại.",
    "media_damaged": "Tệp ảnh bị hỏng hoặc chưa tải lên hết. Vui lòng chọn lại ảnh rồi gửi lại.",
}


class MediaFile(SQLModel, table=True):
    """One stored file, named by the SHA-256 of its bytes, so a name never changes meaning.

    `data` holds the bytes with the database backend and is empty with the folder backend;
    either kind of row is readable whatever the backend now, so an installation can move its
    new files to a shared folder without moving the old ones. Images also record width, height and
    `image_key`, the key of the widest variant of the same picture, which ties the widths together."""

    __tablename__ = "core_media"

    key: str = Field(primary_key=True, max_length=64)
    content_type: str = Field(max_length=100)
    size: int
    data: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    width: int | None = Field(default=None)
    height: int | None = Field(default=None)
    image_key: str | None = Field(default=None, max_length=64, index=True)
    created_at: datetime = Field(default_factory=utcnow)


@dataclass(frozen=True)
class MediaInfo:
    """What is known of a stored file without reading its bytes."""

    key: str
    content_type: str
    size: int
    in_database: bool
    width: int | None = None
    height: int | None = None

    @property
    def url(self) -> str:
        return media_url(self.key, self.content_type)


def media_url(key: str, content_type: str) -> str:
    """The address a stored file is served at: /media/<key>.<ext>."""
    return f"/media/{key}.{CONTENT_TYPES[content_type]}"


def key_from_url(url: str) -> str | None:
    """The key in a media URL (`/media/<key>.<ext>`, possibly absolute), or None."""
    from urllib.parse import urlsplit

    match = _URL.fullmatch(urlsplit(url or "").path)
    if match is None or match.group(2) not in CONTENT_TYPES.values():
        return None
    return match.group(1)


def content_key(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class MediaStore:
    """Where uploaded bytes live. Every method runs in the caller's session and never commits:
    `put` inside a unit of work, `stat` and `read` in a read session too.

    Keys are the SHA-256 hex of the content, so storing the same bytes twice stores them once
    and a URL stays valid (and cacheable) for ever."""

    def put(self, db: Session, data: bytes, content_type: str, *, width: int | None = None,
            height: int | None = None, image_key: str | None = None) -> str:
        """Store `data` as `content_type` (one of CONTENT_TYPES); returns its key."""
        if content_type not in CONTENT_TYPES:
            raise ValueError(f"content type not served: {content_type!r}")
        key = content_key(data)
        kept = self._keep(key, data)
        insert_ignore(db, MediaFile, {
            "key": key, "content_type": content_type, "size": len(data), "data": kept,
            "width": width, "height": height, "image_key": image_key, "created_at": utcnow(),
        }, ["key"])
        return key

    def stat(self, db: Session, key: str) -> MediaInfo | None:
        """The file's type and size, or None when no file has this key."""
        if not KEY_PATTERN.fullmatch(key or ""):
            return None
        row = db.execute(
            select(MediaFile.content_type, MediaFile.size, MediaFile.data.is_(None),
                   MediaFile.width, MediaFile.height).where(MediaFile.key == key)
        ).first()
        if row is None:
            return None
        content_type, size, in_folder, width, height = row
        return MediaInfo(key, content_type, size, not in_folder, width, height)

    def read(self, db: Session, info: MediaInfo, start: int = 0, stop: int | None = None) -> Iterator[bytes]:
        """The bytes [start, stop) of a file stat() found, in chunks; None as stop means to the end.

        Raises FileNotFoundError when a folder file is missing (another host's mount, a lost disk)."""
        stop = info.size if stop is None else min(stop, info.size)
        if not info.in_database:
            return self._read_file(info.key, start, stop)
        if start >= stop:
            return iter([b""])
        chunk = db.execute(
            select(func.substr(MediaFile.data, start + 1, stop - start, type_=LargeBinary))
            .where(MediaFile.key == info.key)
        ).scalar_one()
        return iter([bytes(chunk or b"")])

    def get(self, db: Session, key: str) -> bytes | None:
        """The whole file, or None."""
        info = self.stat(db, key)
        if info is None:
            return None
        try:
            return b"".join(self.read(db, info))
        except FileNotFoundError:
            return None

    def _keep(self, key: str, data: bytes) -> bytes | None:
        """Keep the bytes outside the row if this backend does; returns what the row holds."""
        raise NotImplementedError

    def _read_file(self, key: str, start: int, stop: int) -> Iterator[bytes]:
        raise FileNotFoundError(key)


class DatabaseMediaStore(MediaStore):
    """Bytes in the `core_media` row: the default, so an SQLite installation stays one file."""

    def _keep(self, key: str, data: bytes) -> bytes | None:
        return data


class FolderMediaStore(MediaStore):
    """Bytes in a folder every host mounts (LMS_MEDIA_DIR: NFS, an object-store mount), as
    <folder>/<k[0:2]>/<k[2:4]>/<key>; the row keeps the type and size. Files already in the
    database stay readable. The file is written before the row: a unit of work that rolls back
    leaves a file no row names, harmless (the same bytes stored later reuse it)."""

    CHUNK = 256 * 1024

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def path(self, key: str) -> Path:
        return self.folder / key[:2] / key[2:4] / key

    def _keep(self, key: str, data: bytes) -> bytes | None:
        if not self.folder.is_dir():
            # A mount that failed must not become a local folder only this host sees.
            raise RuntimeError("LMS_MEDIA_DIR does not exist or is not a folder")
        path = self.path(key)
        if path.is_file() and path.stat().st_size == len(data):
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed, so no host ever reads half a file.
        temporary = path.with_name(f".{key}.{secrets.token_hex(8)}.tmp")
        with temporary.open("wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
        return None

    def _read_file(self, key: str, start: int, stop: int) -> Iterator[bytes]:
        file = self.path(key).open("rb")  # opened now: a missing file fails here, not mid-answer

        def chunks() -> Iterator[bytes]:
            with file:
                file.seek(start)
                left = stop - start
                while left > 0:
                    chunk = file.read(min(self.CHUNK, left))
                    if not chunk:
                        return
                    left -= len(chunk)
                    yield chunk

        return chunks()


def media_store(settings: Any) -> MediaStore:
    """The installation's store: the folder LMS_MEDIA_DIR when set, else the database."""
    folder = getattr(settings, "media_dir", "") or ""
    return FolderMediaStore(Path(folder)) if folder else DatabaseMediaStore()


# --- Images ------------------------------------------------------------------------------------


class ImageVariant(NamedTuple):
    width: int
    height: int
    key: str
    url: str


@dataclass(frozen=True)
class StoredImage:
    """A stored picture: its widths (narrowest first) and the alt text the editor gave."""

    variants: tuple[ImageVariant, ...]
    alt: str

    @property
    def key(self) -> str:
        """The picture's identity: the key of its widest variant."""
        return self.variants[-1].key

    @property
    def default(self) -> ImageVariant:
        """The variant for `src`: the widest up to 800 px."""
        fitting = [v for v in self.variants if v.width <= BUDGET_WIDTH]
        return fitting[-1] if fitting else self.variants[0]

    @property
    def srcset(self) -> str:
        return srcset(self.variants)

    def tag(self, sizes: str = DEFAULT_SIZES, *, loading: str = "lazy", css_class: str = "") -> Markup:
        """An <img> with src, srcset, sizes, width, height and alt, every value escaped."""
        default = self.default
        class_attr = Markup(' class="{}"').format(css_class) if css_class else ""
        return Markup(
            '<img src="{}" srcset="{}" sizes="{}" width="{}" height="{}" alt="{}" loading="{}" '
            'decoding="async"{}>'
        ).format(default.url, self.srcset, sizes, default.width, default.height, self.alt, loading,
                 class_attr)

    def to_dict(self) -> dict[str, Any]:
        return {"alt": self.alt, "variants": [list(v) for v in self.variants]}

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> "StoredImage":
        return cls(tuple(ImageVariant(*v) for v in value["variants"]), value["alt"])


def srcset(variants: Any) -> str:
    """`url 400w, url 800w, …` for an <img srcset>, from (width, height, key, url) variants."""
    return ", ".join(f"{v[3]} {int(v[0])}w" for v in variants)


@dataclass(frozen=True)
class PreparedImage:
    """An upload checked and re-encoded, not yet stored: (width, height, content_type, bytes)."""

    variants: tuple[tuple[int, int, str, bytes], ...]
    alt: str


def store_image(ctx: Any, data: bytes, *, alt: str) -> StoredImage:
    """Check, re-encode and store an uploaded image in its own unit of work.

    Raises ServiceError (codes in MEDIA_ERRORS) before anything is stored."""
    prepared = prepare_image(data, alt=alt, max_bytes=ctx.settings.media_max_upload_bytes)
    with ctx.transaction() as db:
        return save_image(db, media_store(ctx.settings), prepared)


def save_image(db: Session, store: MediaStore, prepared: PreparedImage) -> StoredImage:
    """Store a prepared image's variants in the caller's unit of work."""
    widest = content_key(prepared.variants[-1][3])
    variants = []
    for width, height, content_type, data in prepared.variants:
        key = store.put(db, data, content_type, width=width, height=height, image_key=widest)
        variants.append(ImageVariant(width, height, key, media_url(key, content_type)))
    return StoredImage(tuple(variants), prepared.alt)


def load_image(db: Session, key: str, *, alt: str) -> StoredImage | None:
    """Every width of the picture one of whose variants has `key`, or None."""
    if not KEY_PATTERN.fullmatch(key or ""):
        return None
    image_key = db.execute(select(MediaFile.image_key).where(MediaFile.key == key)).scalar_one_or_none()
    if image_key is None:
        return None
    rows = db.execute(
        select(MediaFile.width, MediaFile.height, MediaFile.key, MediaFile.content_type)
        .where(MediaFile.image_key == image_key).order_by(MediaFile.width)
    ).all()
    return StoredImage(tuple(ImageVariant(w, h, k, media_url(k, t)) for w, h, k, t in rows), alt)


def _refuse(code: str, status: int = 422, **values: Any) -> ServiceError:
    return ServiceError(code, MEDIA_ERRORS[code].format(**values), status)


def clean_alt(alt: str | None) -> str:
    """The alt text in canonical form; refused when empty or too long."""
    value = " ".join(nfc(alt or "").split())
    if not value:
        raise _refuse("media_alt_missing")
    if len(value) > ALT_MAX_LENGTH:
        raise _refuse("media_alt_too_long")
    return value


def prepare_image(data: bytes, *, alt: str, max_bytes: int) -> PreparedImage:
    """Check an upload by its content and re-encode it at IMAGE_WIDTHS. Pure: no database.

    Only the decoded pixels are kept: metadata (EXIF, GPS, comments, colour profiles after
    conversion to sRGB) and anything hidden or appended in the file are gone; the EXIF
    orientation is applied first. Raises ServiceError with a MEDIA_ERRORS code."""
    alt = clean_alt(alt)
    if not data:
        raise _refuse("media_empty")
    if len(data) > max_bytes:
        raise _refuse("media_too_large", 413, limit=_megabytes(max_bytes))
    _check_content(data)
    with _image_slots:
        image = _decoded(data)
        variants = tuple(_encoded(image, width) for width in _widths(image.width))
    return PreparedImage(variants, alt)


def _megabytes(size: int) -> str:
    value = size / 1_000_000
    return f"{value:.0f} MB" if value >= 1 else f"{size // 1000} KB"


def _check_content(data: bytes) -> None:
    if data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<") and re.search(rb"<svg", data, re.I):
        raise _refuse("media_svg")
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftyphevc"):
        raise _refuse("media_heic")
    lowered = data.lower()
    if any(marker.search(lowered) for marker in _ACTIVE_CONTENT):
        raise _refuse("media_active_content")
    if _holds_zip(data):
        raise _refuse("media_active_content")


def _holds_zip(data: bytes) -> bool:
    # An archive appended to an image (PNG+ZIP, JPEG+JAR) opens as a ZIP from its end.
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return bool(archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):
        return False


def _decoded(data: bytes) -> Any:
    # Registered only when imported; every other format Pillow knows stays unreachable.
    from PIL import (  # noqa: F401
        GifImagePlugin,
        Image,
        ImageOps,
        JpegImagePlugin,
        PngImagePlugin,
        UnidentifiedImageError,
        WebPImagePlugin,
    )

    try:
        image = Image.open(io.BytesIO(data), formats=_ACCEPTED_FORMATS)
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        if isinstance(exc, UnidentifiedImageError):
            raise _refuse("media_not_image") from None
        raise _refuse("media_too_many_pixels", megapixels=MAX_IMAGE_PIXELS // 1_000_000) from None
    except Exception:  # noqa: BLE001 - a malformed header: Pillow's parsers raise many kinds
        raise _refuse("media_damaged") from None
    # Checked on the header, before a single pixel is decoded.
    width, height = image.size
    if width * height > MAX_IMAGE_PIXELS or width < 1 or height < 1:
        raise _refuse("media_too_many_pixels", megapixels=MAX_IMAGE_PIXELS // 1_000_000)
    try:
        if image.format in ("JPEG", "MPO"):
            # Decode at the smallest scale still at least the widest variant: a 12 MP photo
            # decodes at a quarter of the memory and time.
            image.draft(None, (IMAGE_WIDTHS[-1], IMAGE_WIDTHS[-1]))
        image.seek(0)  # an animation keeps its first frame
        image.load()
    except Image.DecompressionBombError:
        raise _refuse("media_too_many_pixels", megapixels=MAX_IMAGE_PIXELS // 1_000_000) from None
    except Exception:  # noqa: BLE001 - truncated or corrupt data
        raise _refuse("media_damaged") from None
    with contextlib.suppress(Exception):  # unreadable EXIF: keep the pixels as stored
        image = ImageOps.exif_transpose(image)
    return _plain_mode(_srgb(image))


def _srgb(image: Any) -> Any:
    """Colours converted from the file's profile to sRGB, so dropping the profile changes nothing."""
    profile = image.info.get("icc_profile")
    if not profile or image.mode not in ("RGB", "RGBA", "CMYK", "L"):
        return image
    from PIL import ImageCms

    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        mode = "RGBA" if image.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode=mode)
    except Exception:  # noqa: BLE001 - a broken profile: the pixels as they are
        return image


def _plain_mode(image: Any) -> Any:
    """RGB, or RGBA when some pixel is transparent."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    transparent = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    image = image.convert("RGBA" if transparent else "RGB")
    if transparent and image.getchannel("A").getextrema() == (255, 255):
        image = image.convert("RGB")
    return image


def _widths(original: int) -> list[int]:
    widest = min(original, IMAGE_WIDTHS[-1])
    return [w for w in IMAGE_WIDTHS if w < widest] + [widest]


def webp_available() -> bool:
    from PIL import features

    return bool(features.check("webp"))


def _encoded(image: Any, width: int) -> tuple[int, int, str, bytes]:
    from PIL import Image

    height = max(1, round(image.height * width / image.width))
    resized = image if width == image.width else image.resize(
        (width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
    resized.info = {}  # nothing of the original file travels with the pixels
    budget = BUDGET_BYTES * (width / BUDGET_WIDTH) ** 2
    if webp_available():
        content_type, save = "image/webp", {"format": "WEBP", "method": 4}
    else:
        content_type, save = "image/jpeg", {"format": "JPEG", "optimize": True, "progressive": True}
        if resized.mode == "RGBA":
            flat = Image.new("RGB", resized.size, (255, 255, 255))
            flat.paste(resized, mask=resized.getchannel("A"))
            resized = flat
    data = b""
    for quality in QUALITY_STEPS:
        out = io.BytesIO()
        resized.save(out, quality=quality, **save)
        data = out.getvalue()
        if len(data) <= budget:
            break
    return width, height, content_type, data
