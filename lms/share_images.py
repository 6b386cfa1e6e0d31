"""Share-preview pictures (Open Graph, 1200×630 PNG) for courses, events and news, and their meta tags.

A plugin builds a ShareCard from what its page says, links it with image_url() (the `?v=` changes
with the text, so chat apps that keep a picture for ever fetch the new one) and serves it with
response(): drawn once, kept as a file under the instance folder, sent as immutable.
"""

import functools
import hashlib
import io
import json
import os
import tempfile
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

from fastapi import Request, Response
from fontpkg_be_vietnam_pro import ROOT as BE_VIETNAM_PRO
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont

from lms.settings import Settings

# Bump when the drawing changes: every digest, file name, ETag and `?v=` renews with it.
RENDERER_VERSION = "1"

WIDTH, HEIGHT = 1200, 630
CACHE_FOLDER = "share-images"
IMMUTABLE = "public, max-age=31536000, immutable"
# A `?v=` that is not the current text's (an old link, or none) gets today's picture, but must
# not be pinned for a year under a URL that named other text.
REVALIDATE = "public, max-age=300"

FONT_DIR = BE_VIETNAM_PRO / "files"
FONT_FILES = {"regular": "BeVietnamPro-Regular.ttf", "bold": "BeVietnamPro-Bold.ttf"}

# The site's palette (static/css/site.css: --soft, --brand, --brand-dark, --ink).
BACKGROUND = (0xF3, 0xF5, 0xF7)
BRAND = (0x0B, 0x53, 0x94)
BRAND_DARK = (0x07, 0x37, 0x63)
INK = (0x1A, 0x1A, 0x1A)
ON_BRAND = (0xFF, 0xFF, 0xFF)

MARGIN_X = 80
TEXT_WIDTH = WIDTH - 2 * MARGIN_X
KICKER_TOP, KICKER_SIZE = 48, 34
RULE_GAP, RULE_HEIGHT, RULE_WIDTH = 14, 6, 120
TITLE_GAP = 22
TITLE_SIZES = (72, 64, 56)  # largest first; one step smaller when the title does not fit
TITLE_MOST_LINES = 4
BAND_HEIGHT = 100
BAND_TOP = HEIGHT - BAND_HEIGHT
TITLE_BOTTOM = BAND_TOP - 26
FOOTER_SIZE = 32
ELLIPSIS = "…"


def _nfc(text: str) -> str:
    # Text typed with combining marks would otherwise be drawn with marks the font places apart,
    # and would give another digest than the same words precomposed.
    return unicodedata.normalize("NFC", text or "")


@dataclass(frozen=True)
class ShareCard:
    """What a preview picture says; equal cards give identical bytes."""

    title: str
    kicker: str = ""  # the small line above: "Khóa học", "Sự kiện · 14:00 thứ Bảy 12/12/2026"
    footer: str = ""  # the site's or the commune's name

    def __post_init__(self) -> None:
        for name in ("title", "kicker", "footer"):
            # One line each: wrapping is the renderer's, so newlines and runs of spaces count as one space.
            object.__setattr__(self, name, " ".join(_nfc(getattr(self, name)).split()))


def digest(card: ShareCard) -> str:
    fields = json.dumps(asdict(card), ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(f"share-image\n{RENDERER_VERSION}\n{fields}".encode()).hexdigest()


def short_digest(card: ShareCard) -> str:
    return digest(card)[:12]


def image_url(path: str, card: ShareCard) -> str:
    """A plugin route's path with `?v=<short digest>`, so the URL changes when the text does."""
    return f"{path}{'&' if '?' in path else '?'}v={short_digest(card)}"


# --- Fonts and measures ------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def font(style: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / FONT_FILES[style]), size)


@functools.lru_cache(maxsize=4)
def _clear_extent(style: str) -> tuple[int, int, int]:
    """(ascent, descent, units per em) that hold every glyph's ink: usWinAscent/usWinDescent.

    The hhea ascender (one em in Be Vietnam Pro) stops short of stacked marks such as "Ẫ" (about
    1.23 em); the Windows metrics are the font's own promise that nothing is drawn beyond them."""
    with TTFont(FONT_DIR / FONT_FILES[style], lazy=True) as face:
        os2, head = face["OS/2"], face["head"]
        return os2.usWinAscent, os2.usWinDescent, head.unitsPerEm


def line_extent(style: str, size: int) -> tuple[int, int]:
    """Pixels above and below the baseline that a line keeps clear for its own ink."""
    ascent, descent, em = _clear_extent(style)
    # Rounded up: a mark one pixel taller than a rounded-down extent would touch the line above.
    return -(-ascent * size // em), -(-descent * size // em)


def _width(text: str, face: ImageFont.FreeTypeFont) -> float:
    return face.getlength(text)


def _break_word(word: str, face: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """A word wider than the line, in pieces that fit, never splitting a letter from its marks."""
    pieces, current = [], ""
    for char in word:
        if current and not unicodedata.combining(char) and _width(current + char, face) > width:
            pieces.append(current)
            current = ""
        current += char
    return pieces + [current] if current else pieces


def wrap(text: str, face: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """Lines no wider than `width` (measured), broken at spaces; an overlong word is broken by width."""
    lines: list[str] = []
    for word in text.split(" "):
        if not word:
            continue
        if lines and _width(f"{lines[-1]} {word}", face) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        elif _width(word, face) <= width:
            lines.append(word)
        else:
            lines.extend(_break_word(word, face, width))
    return lines


def _with_ellipsis(text: str, face: ImageFont.FreeTypeFont, width: float) -> str:
    """`text` shortened, whole words if it can be, until it fits with "…" after it."""
    text = text.rstrip()
    while text and _width(text + ELLIPSIS, face) > width:
        text = text.rsplit(" ", 1)[0] if " " in text else text[:-1]
        # No "…" after a dangling comma or dash.
        text = text.rstrip(" ,;:·-–—")
    return text + ELLIPSIS


def cut_to_one_line(text: str, face: ImageFont.FreeTypeFont, width: float) -> str:
    return text if _width(text, face) <= width else _with_ellipsis(text, face, width)


# --- Layout ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One drawn line: its text, where its baseline starts, its slot and the box its ink stays in."""

    text: str
    style: str
    size: int
    fill: tuple[int, int, int]
    x: int
    baseline: int
    slot: tuple[int, int, int, int]  # (left, top, right, bottom) kept clear for this line alone
    ink: tuple[int, int, int, int]  # Pillow's box of the glyphs as drawn at (x, baseline)

    @property
    def width(self) -> float:
        return _width(self.text, font(self.style, self.size))


@dataclass(frozen=True)
class Layout:
    title: tuple[Line, ...]
    kicker: Line | None
    footer: Line | None
    rule: tuple[int, int, int, int] | None
    title_size: int
    lines: tuple[Line, ...] = field(init=False)

    def __post_init__(self) -> None:
        every = ([self.kicker] if self.kicker else []) + list(self.title) + ([self.footer] if self.footer else [])
        object.__setattr__(self, "lines", tuple(every))


def _line(text: str, style: str, size: int, fill: tuple[int, int, int], top: int) -> Line:
    ascent, descent = line_extent(style, size)
    face = font(style, size)
    baseline = top + ascent
    left, ink_top, right, ink_bottom = face.getbbox(text, anchor="ls")
    return Line(text=text, style=style, size=size, fill=fill, x=MARGIN_X, baseline=baseline,
                slot=(MARGIN_X, top, MARGIN_X + TEXT_WIDTH, baseline + descent),
                ink=(MARGIN_X + left, baseline + ink_top, MARGIN_X + right, baseline + ink_bottom))


def _title_lines(title: str, top: int) -> tuple[int, list[str]]:
    """The largest size whose wrapped title fits the space (at most 4 lines), else the smallest, cut."""
    for size in TITLE_SIZES:
        pitch = sum(line_extent("bold", size))
        most = min(TITLE_MOST_LINES, (TITLE_BOTTOM - top) // pitch)
        lines = wrap(title, font("bold", size), TEXT_WIDTH)
        if len(lines) <= most:
            return size, lines
    return size, lines[:most - 1] + [_with_ellipsis(_rest(title, lines[:most - 1]), font("bold", size), TEXT_WIDTH)]


def _rest(text: str, kept: list[str]) -> str:
    """What of `text` the lines `kept` (from wrap) leave over; a broken word is not rejoined with a space."""
    position = 0
    for line in kept:
        position += len(line)
        if text[position:position + 1] == " ":
            position += 1
    return text[position:]


def layout(card: ShareCard) -> Layout:
    """Where every line of the card goes; render_png() draws exactly this."""
    top = KICKER_TOP
    kicker = rule = None
    if card.kicker:
        kicker = _line(cut_to_one_line(card.kicker, font("regular", KICKER_SIZE), TEXT_WIDTH), "regular",
                       KICKER_SIZE, BRAND_DARK, top)
        # The rule sits under the letters' ink, not under the slot kept for stacked marks.
        rule_top = kicker.baseline + line_extent("regular", KICKER_SIZE)[1] // 2 + RULE_GAP
        rule = (MARGIN_X, rule_top, MARGIN_X + RULE_WIDTH, rule_top + RULE_HEIGHT)
        top = rule[3] + TITLE_GAP
    size, texts = _title_lines(card.title, top)
    pitch = sum(line_extent("bold", size))
    title = tuple(_line(text, "bold", size, INK, top + i * pitch) for i, text in enumerate(texts))
    footer = None
    if card.footer:
        ascent, descent = line_extent("regular", FOOTER_SIZE)
        footer = _line(cut_to_one_line(card.footer, font("regular", FOOTER_SIZE), TEXT_WIDTH), "regular",
                       FOOTER_SIZE, ON_BRAND, BAND_TOP + (BAND_HEIGHT - ascent - descent) // 2)
    return Layout(title=title, kicker=kicker, footer=footer, rule=rule, title_size=size)


# --- Drawing --------------------------------------------------------------------------


def draw_line(image: Image.Image, line: Line) -> None:
    ImageDraw.Draw(image).text((line.x, line.baseline), line.text, font=font(line.style, line.size),
                               fill=line.fill, anchor="ls")


def draw(card: ShareCard) -> Image.Image:
    """The picture before it is reduced to a palette for a small file."""
    plan = layout(card)
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    canvas = ImageDraw.Draw(image)
    canvas.rectangle((0, BAND_TOP, WIDTH - 1, HEIGHT - 1), fill=BRAND)
    if plan.rule:
        canvas.rectangle((plan.rule[0], plan.rule[1], plan.rule[2] - 1, plan.rule[3] - 1), fill=BRAND)
    for line in plan.lines:
        draw_line(image, line)
    return image


def render_png(card: ShareCard) -> bytes:
    """The 1200×630 preview as PNG: a few dozen colours keep the anti-aliased letters smooth and the
    file small (chat apps refuse or recompress large previews)."""
    palette = draw(card).quantize(colors=32, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    palette.save(out, format="PNG", optimize=True)
    return out.getvalue()


# --- Serving --------------------------------------------------------------------------


def cache_path(settings: Settings, card: ShareCard) -> Path:
    return settings.instance_dir / CACHE_FOLDER / f"{digest(card)}.png"


def _stored(path: Path, card: ShareCard) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    data = render_png(card)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside then renamed: a worker racing this one reads a whole file or none, and two
    # renames of identical bytes leave the same file.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".png")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return data


def _matches(if_none_match: str, etag: str) -> bool:
    return if_none_match.strip() == "*" or any(
        tag.strip().removeprefix("W/") == etag for tag in if_none_match.split(","))


def response(settings: Settings, card: ShareCard, version: str, *, request: Request | None = None) -> Response:
    """The card's PNG, drawn once per text and kept under the instance folder.

    `version` is the `?v=` the link carried: only the current one is cached as immutable. With
    `request`, a matching If-None-Match gets a 304."""
    etag = f'"{digest(card)[:32]}"'
    headers = {"ETag": etag, "Cache-Control": IMMUTABLE if version == short_digest(card) else REVALIDATE}
    if request is not None and _matches(request.headers.get("if-none-match", ""), etag):
        return Response(status_code=304, headers=headers)
    return Response(_stored(cache_path(settings, card), card), media_type="image/png", headers=headers)


# --- Meta tags ------------------------------------------------------------------------

DESCRIPTION_LENGTH = 300


def absolute_url(request: Request, path: str) -> str:
    """`path` on the installation's public address (settings.base_url, as printed links use: behind
    a proxy the request's own address can be an internal one)."""
    if path.startswith(("http://", "https://")):
        return path
    settings = getattr(request.app.state, "settings", None)
    base = settings.base_url if settings is not None else str(request.base_url)
    return f"{base.rstrip('/')}/{path.lstrip('/')}"


def absolute_url_for(request: Request, name: str, /, **path_params: object) -> str:
    """The public address of a named route."""
    return absolute_url(request, str(request.app.url_path_for(name, **path_params)))


@dataclass(frozen=True)
class SharePreview:
    """The context of templates/partials/share_meta.html (`share`): URLs are absolute."""

    title: str
    description: str
    url: str
    image_url: str
    site_name: str
    type: str = "article"
    image_alt: str = ""

    def __post_init__(self) -> None:
        for name in ("title", "description", "site_name", "image_alt"):
            object.__setattr__(self, name, " ".join(_nfc(getattr(self, name)).split()))
        if len(self.description) > DESCRIPTION_LENGTH:
            cut = self.description[:DESCRIPTION_LENGTH - 1].rsplit(" ", 1)[0].rstrip(" ,;:·-–—")
            object.__setattr__(self, "description", cut + ELLIPSIS)
        if not self.image_alt:
            object.__setattr__(self, "image_alt", self.title)

    @classmethod
    def of(cls, request: Request, card: ShareCard, *, description: str, path: str, image_path: str,
           type: str = "article", title: str | None = None) -> "SharePreview":
        """The preview of the page at `path` whose picture is `card`, served by the route at `image_path`."""
        return cls(title=card.title if title is None else title, description=description,
                   url=absolute_url(request, path), image_url=absolute_url(request, image_url(image_path, card)),
                   site_name=request.app.state.settings.site_name, type=type,
                   image_alt=" · ".join(part for part in (card.kicker, card.title) if part))
