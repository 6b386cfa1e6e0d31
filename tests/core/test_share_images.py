"""Share-preview pictures: size, Vietnamese glyphs, stacked marks that never clip, measured wrapping,
NFC, the file cache and its headers, and the meta tags partial."""

import io
import itertools
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from fontTools.ttLib import TTFont
from PIL import Image, ImageChops

from lms import share_images as si
from lms.templating import make_environment

ROOT = Path(__file__).resolve().parents[2]

STACKED_CAPITALS = "ỨNG DỤNG CÔNG NGHỆ SỐ Ở ẤP ĐỒNG ẪM"
TYPICAL_CARDS = [
    si.ShareCard(title="Sử dụng dịch vụ công trực tuyến trên điện thoại", kicker="Khóa học",
                 footer="Bình dân học vụ số"),
    si.ShareCard(title="Hướng dẫn cài đặt VNeID và tích hợp giấy tờ cho người cao tuổi ở ấp Đồng Ẫm",
                 kicker="Sự kiện · 14:00 thứ Bảy 12/12/2026", footer="Xã Minh Châu · Bình dân học vụ số"),
    si.ShareCard(title="Cảnh giác với cuộc gọi giả danh công an yêu cầu chuyển tiền: những dấu hiệu nhận "
                       "biết lừa đảo trực tuyến mà mọi gia đình cần biết trước Tết Nguyên đán",
                 kicker="Tin tức", footer="Xã Minh Châu"),
]

TONE_MARKS = ["", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323"]  # sắc, huyền, hỏi, ngã, nặng
VOWELS = "aăâeêioôơuưy"


def vietnamese_letters() -> set[str]:
    """Every Vietnamese letter with every tone mark, both cases, precomposed."""
    letters = {unicodedata.normalize("NFC", vowel + mark)
               for vowel, mark in itertools.product(VOWELS + VOWELS.upper(), TONE_MARKS)}
    return letters | set("ăâêôơưđĂÂÊÔƠƯĐ")


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def ink_box(image: Image.Image, background=si.BACKGROUND) -> tuple[int, int, int, int] | None:
    """Where `image` differs from a plain background: the pixels actually drawn."""
    return ImageChops.difference(image.convert("RGB"), Image.new("RGB", image.size, background)).getbbox()


def overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


# --- The picture ----------------------------------------------------------------------


@pytest.mark.parametrize("card", TYPICAL_CARDS, ids=["course", "event", "news"])
def test_a_card_is_a_small_1200_by_630_png(card):
    data = si.render_png(card)
    image = decoded(data)
    assert image.format == "PNG"
    assert image.size == (1200, 630)
    assert image.convert("RGB").getpixel((10, 10)) == si.BACKGROUND
    assert image.convert("RGB").getpixel((10, 620)) == si.BRAND  # the footer's band
    assert len(data) < 60_000


def test_the_same_card_gives_the_same_bytes_and_another_text_other_bytes():
    card = TYPICAL_CARDS[1]
    assert si.render_png(card) == si.render_png(si.ShareCard(card.title, card.kicker, card.footer))
    assert si.render_png(card) != si.render_png(si.ShareCard(card.title + " mới", card.kicker, card.footer))


def test_a_title_typed_decomposed_draws_the_same_picture():
    nfc = si.ShareCard(title="Bảo vệ tài khoản ngân hàng", kicker="Khóa học · Người dân", footer="Xã Đồng Ẫm")
    nfd = si.ShareCard(title=unicodedata.normalize("NFD", nfc.title), kicker=unicodedata.normalize("NFD", nfc.kicker),
                       footer=unicodedata.normalize("NFD", nfc.footer))
    assert unicodedata.normalize("NFD", nfc.title) != nfc.title
    assert nfd == nfc
    assert si.render_png(nfd) == si.render_png(nfc)
    assert si.image_url("/x/og.png", nfd) == si.image_url("/x/og.png", nfc)


# --- Glyphs ---------------------------------------------------------------------------


@pytest.mark.parametrize("style", ["bold", "regular"])
def test_every_vietnamese_letter_is_in_the_font_and_drawn_as_itself(style):
    letters = vietnamese_letters()
    assert len(letters) == 2 * 12 * 6 + 2 and all(len(letter) == 1 for letter in letters)
    with TTFont(si.FONT_DIR / si.FONT_FILES[style]) as font_file:
        cmap = font_file.getBestCmap()
    assert sorted(letter for letter in letters if ord(letter) not in cmap) == []

    face = si.font(style, 72)
    absent = "\u4e2d"  # a CJK character Be Vietnam Pro does not have: it draws .notdef
    assert ord(absent) not in cmap
    notdef = face.getmask(absent)
    tofu = (notdef.size, bytes(notdef))
    for letter in sorted(letters):
        mask = face.getmask(letter)
        assert mask.getbbox() is not None, letter
        assert (mask.size, bytes(mask)) != tofu, letter


@pytest.mark.parametrize("size", si.TITLE_SIZES)
def test_the_space_kept_for_a_line_holds_every_vietnamese_letter(size):
    ascent, descent = si.line_extent("bold", size)
    face = si.font("bold", size)
    for letter in vietnamese_letters() | set("gjpqyỵỴ"):
        _, top, _, bottom = face.getbbox(letter, anchor="ls")
        assert -ascent <= top and bottom <= descent, letter
    # The font's hhea ascender (one em) would not: stacked marks reach above it.
    assert min(face.getbbox(letter, anchor="ls")[1] for letter in "ẪẶỮ") < -face.getmetrics()[0]


# --- Stacked marks --------------------------------------------------------------------


@pytest.mark.parametrize("title", [STACKED_CAPITALS, " ".join([STACKED_CAPITALS] * 3)], ids=["two-lines", "four-lines"])
def test_stacked_marks_stay_inside_their_own_line(title):
    card = si.ShareCard(title=title, kicker="KHÓA HỌC · ĐỒNG ẪM", footer="ỦY BAN NHÂN DÂN XÃ ĐỒNG ẪM")
    plan = si.layout(card)
    assert len(plan.title) == (2 if title == STACKED_CAPITALS else 4)
    image = si.draw(card)

    for line in plan.lines:
        left, top, right, bottom = line.ink
        assert left >= 0 and top >= 0 and right <= si.WIDTH and bottom <= si.HEIGHT, line.text
        assert line.slot[1] <= top and bottom <= line.slot[3], line.text
    for first, second in itertools.combinations(plan.lines, 2):
        assert not overlap(first.ink, second.ink), (first.text, second.text)
        assert not overlap(first.slot, second.slot), (first.text, second.text)
    for line in plan.title:
        assert line.slot[3] <= si.BAND_TOP

    previous_bottom = None
    for line in plan.title:
        alone = Image.new("RGB", image.size, si.BACKGROUND)
        si.draw_line(alone, line)
        drawn = ink_box(alone)
        # The pixels really drawn sit inside the box the layout reports...
        assert drawn is not None
        assert line.ink[0] <= drawn[0] and line.ink[1] <= drawn[1], line.text
        assert drawn[2] <= line.ink[2] and drawn[3] <= line.ink[3], line.text
        # ...below the previous line's letters, with a gap...
        if previous_bottom is not None:
            assert drawn[1] > previous_bottom, line.text
        previous_bottom = drawn[3]
        # ...and nothing of another line reaches into this one's slot.
        assert ImageChops.difference(image.crop(line.slot), alone.crop(line.slot)).getbbox() is None, line.text


# --- Wrapping -------------------------------------------------------------------------


def test_wrapping_is_by_measured_width():
    face = si.font("bold", si.TITLE_SIZES[0])
    narrow = si.wrap(" ".join(["iiiii"] * 40), face, si.TEXT_WIDTH)
    wide = si.wrap(" ".join(["MMMMM"] * 40), face, si.TEXT_WIDTH)
    assert len(narrow[0]) > 2 * len(wide[0])
    for line in narrow + wide:
        assert face.getlength(line) <= si.TEXT_WIDTH


@pytest.mark.parametrize("title", [
    " ".join(["iiiii"] * 40), " ".join(["MMMMM"] * 40), "M" * 80, "Đ" + "Ẫ" * 60 + " là một từ rất dài",
    *[card.title for card in TYPICAL_CARDS],
])
def test_no_line_is_wider_than_the_text_area(title):
    plan = si.layout(si.ShareCard(title=title))
    assert 1 <= len(plan.title) <= si.TITLE_MOST_LINES
    for line in plan.title:
        assert line.width <= si.TEXT_WIDTH, line.text
        assert line.ink[2] <= si.MARGIN_X + si.TEXT_WIDTH, line.text


def test_lines_break_only_at_spaces_and_a_long_title_shrinks_then_ends_with_an_ellipsis():
    short, long_title = TYPICAL_CARDS[0], TYPICAL_CARDS[2]
    plan = si.layout(short)
    assert plan.title_size == si.TITLE_SIZES[0]
    assert " ".join(line.text for line in plan.title) == short.title

    plan = si.layout(long_title)
    assert plan.title_size < si.TITLE_SIZES[0]
    assert len(plan.title) == 4
    assert plan.title[-1].text.endswith("…")
    shown = " ".join(line.text for line in plan.title).removesuffix("…")
    assert long_title.title.startswith(shown)
    assert long_title.title[len(shown)] == " "  # cut between words, not inside one


def test_a_word_wider_than_the_line_is_broken_by_width_without_inventing_spaces():
    word = "Đ" + "Ẫ" * 60
    plan = si.layout(si.ShareCard(title=word))
    assert len(plan.title) >= 2
    assert all(line.width <= si.TEXT_WIDTH for line in plan.title)
    assert "".join(line.text for line in plan.title) == word


def test_a_long_kicker_and_footer_are_cut_to_one_line():
    card = si.ShareCard(title="Ngắn", kicker="Sự kiện · " + "rất dài " * 40, footer="Xã " + "Đồng Ẫm " * 40)
    plan = si.layout(card)
    for line in (plan.kicker, plan.footer):
        assert line.text.endswith("…")
        assert line.width <= si.TEXT_WIDTH


# --- Cache and headers ----------------------------------------------------------------


def _request(headers: dict[str, str]) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/", "query_string": b"",
                    "headers": [(key.encode(), value.encode()) for key, value in headers.items()]})


def test_response_draws_once_keeps_the_file_and_sends_immutable_headers(settings, monkeypatch):
    calls = []
    real = si.render_png

    def counting(card):
        calls.append(card)
        return real(card)

    monkeypatch.setattr(si, "render_png", counting)
    card = TYPICAL_CARDS[1]
    version = si.short_digest(card)

    first = si.response(settings, card, version)
    path = settings.instance_dir / "share-images" / f"{si.digest(card)}.png"
    assert path.read_bytes() == first.body == real(card)
    stamp = path.stat().st_mtime_ns
    second = si.response(settings, card, version)
    assert len(calls) == 1
    assert second.body == first.body
    assert path.stat().st_mtime_ns == stamp
    assert list(path.parent.glob(".tmp-*")) == []

    for sent in (first, second):
        assert sent.status_code == 200
        assert sent.media_type == "image/png"
        assert sent.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert sent.headers["etag"] == f'"{si.digest(card)[:32]}"'
    decoded(first.body)


def test_an_old_or_missing_version_is_not_cached_for_ever(settings):
    card = TYPICAL_CARDS[0]
    for version in ("", "000000000000"):
        sent = si.response(settings, card, version)
        assert sent.headers["cache-control"] == si.REVALIDATE
        assert sent.body == si.render_png(card)


def test_a_matching_etag_gets_304_without_drawing(settings, monkeypatch):
    card = TYPICAL_CARDS[0]
    etag = f'"{si.digest(card)[:32]}"'
    monkeypatch.setattr(si, "render_png", lambda card: pytest.fail("drawn for a 304"))
    sent = si.response(settings, card, si.short_digest(card), request=_request({"if-none-match": f'W/{etag}'}))
    assert sent.status_code == 304
    assert sent.body == b""
    assert sent.headers["etag"] == etag


def test_the_version_in_the_link_changes_with_the_text():
    card = TYPICAL_CARDS[0]
    url = si.image_url("/courses/dich-vu-cong/og.png", card)
    assert url == f"/courses/dich-vu-cong/og.png?v={si.short_digest(card)}"
    assert len(si.short_digest(card)) == 12
    assert si.image_url("/courses/dich-vu-cong/og.png", si.ShareCard(card.title + "!", card.kicker, card.footer)) != url
    assert si.image_url("/courses/dich-vu-cong/og.png", si.ShareCard(card.title, "Sự kiện", card.footer)) != url
    assert si.image_url("/x/og.png?kind=a", card) == f"/x/og.png?kind=a&v={si.short_digest(card)}"


def test_the_digest_follows_the_renderer_version(monkeypatch):
    before = si.digest(TYPICAL_CARDS[0])
    monkeypatch.setattr(si, "RENDERER_VERSION", si.RENDERER_VERSION + "-next")
    assert si.digest(TYPICAL_CARDS[0]) != before


# --- Meta tags ------------------------------------------------------------------------


class MetaTags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "meta":
            self.tags.append((values.get("property") or values.get("name"), values["content"]))


EXPECTED_TAGS = {"og:title", "og:description", "og:type", "og:url", "og:image", "og:image:type", "og:image:width",
                 "og:image:height", "og:image:alt", "og:locale", "og:site_name", "twitter:card"}


def test_the_partial_renders_each_tag_once_and_escaped():
    title = 'Khóa học "An toàn" <b>trên mạng</b> & Zalo'
    share = si.SharePreview(title=title, description='Mô tả có "ngoặc kép" và <script>alert(1)</script>',
                            url="https://hocvuso.example/courses/an-toan?a=1&b=2",
                            image_url="https://hocvuso.example/courses/an-toan/og.png?v=abc",
                            site_name="Bình dân học vụ số", type="article")
    env = make_environment([ROOT / "templates"])
    html = env.get_template("partials/share_meta.html").render(share=share)
    assert "<b>" not in html and "<script>" not in html and '"An toàn"' not in html

    parser = MetaTags()
    parser.feed(html)
    names = [name for name, _ in parser.tags]
    assert sorted(names) == sorted(EXPECTED_TAGS)
    tags = dict(parser.tags)
    assert tags["og:title"] == title
    assert tags["og:image:alt"] == title
    assert tags["og:description"] == share.description
    assert tags["og:url"] == "https://hocvuso.example/courses/an-toan?a=1&b=2"
    assert tags["og:image"] == "https://hocvuso.example/courses/an-toan/og.png?v=abc"
    assert (tags["og:image:width"], tags["og:image:height"]) == ("1200", "630")
    assert tags["og:locale"] == "vi_VN"
    assert tags["og:type"] == "article"
    assert tags["og:site_name"] == "Bình dân học vụ số"
    assert tags["twitter:card"] == "summary_large_image"


def test_a_long_description_is_cut_between_words():
    description = " ".join(["Người dân học kỹ năng số"] * 40)
    share = si.SharePreview(title="Tựa", description=description, url="https://a.example/",
                            image_url="https://a.example/og.png", site_name="Bình dân học vụ số")
    assert 200 < len(share.description) <= si.DESCRIPTION_LENGTH
    kept = share.description.removesuffix("…")
    assert kept != share.description
    assert description.startswith(kept) and description[len(kept)] == " "


def test_share_preview_builds_absolute_urls_on_the_public_address(make_settings):
    app = FastAPI()
    app.state.settings = make_settings(base_url="https://hocvuso.example/", site_name="Xã Đồng Ẫm học số")
    card = si.ShareCard(title=unicodedata.normalize("NFD", "Thanh toán không dùng tiền mặt"), kicker="Khóa học")

    @app.get("/courses/{slug}/og.png", name="course_share_image")
    def image(slug: str) -> None:
        raise AssertionError("not called")

    @app.get("/courses/{slug}")
    def page(request: Request, slug: str) -> dict:
        image_path = request.app.url_path_for("course_share_image", slug=slug)
        share = si.SharePreview.of(request, card, description="Học cách trả tiền bằng mã QR.",
                                   path=f"/courses/{slug}", image_path=image_path)
        return {**share.__dict__, "by_name": si.absolute_url_for(request, "course_share_image", slug=slug)}

    with TestClient(app, base_url="http://10.0.0.5:8000") as client:
        body = client.get("/courses/thanh-toan").json()
    assert body["url"] == "https://hocvuso.example/courses/thanh-toan"
    assert body["image_url"] == f"https://hocvuso.example/courses/thanh-toan/og.png?v={si.short_digest(card)}"
    assert body["by_name"] == "https://hocvuso.example/courses/thanh-toan/og.png"
    assert body["title"] == unicodedata.normalize("NFC", "Thanh toán không dùng tiền mặt")
    assert body["image_alt"] == "Khóa học · Thanh toán không dùng tiền mặt"
    assert body["site_name"] == "Xã Đồng Ẫm học số"
    assert body["type"] == "article"
