"""Sharing a certificate: the preview picture chat apps show, LinkedIn, a baked Open Badges image.

The preview (1200×630 PNG) is drawn from what the certificate says, so the same certificate
always gives the same bytes: it is rendered on request, kept in a small in-process cache and
sent with an ETag. Storing it in the database would add a table (and a migration) for data
that can be drawn again in about 0.1 s, and would go stale whenever the layout changes.
"""

import functools
import hashlib
import io
import json
import unicodedata
from dataclasses import asdict, dataclass
from urllib.parse import quote, urlencode
from xml.sax.saxutils import escape, quoteattr

from fontpkg_be_vietnam_pro import ROOT as BE_VIETNAM_PRO
from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

from lms.errors import ServiceError
from lms.plugins.certificates import services
from lms.plugins.certificates.models import Certificate
from lms.qr import qr_png
from lms.settings import Settings
from lms.templating import local
from lms.text import official_date

# Bump when the pictures' layout changes: ETags (and so every cache) renew with it.
RENDER_VERSION = "1"
OG_WIDTH, OG_HEIGHT = 1200, 630
BADGE_SIZE = 512

FONT_DIR = BE_VIETNAM_PRO / "files"
FONT_FILES = {"regular": "BeVietnamPro-Regular.ttf", "italic": "BeVietnamPro-Italic.ttf",
              "semibold": "BeVietnamPro-SemiBold.ttf", "bold": "BeVietnamPro-Bold.ttf"}

OB_NAMESPACE = "https://purl.imsglobal.org/ob/v3p0"
OB_PNG_KEYWORD = "openbadgecredential"
LINKEDIN_ADD = "https://www.linkedin.com/profile/add"

PAPER = (255, 253, 246)
INK = (26, 26, 26)
MUTED = (74, 74, 74)
BROWN = (122, 75, 0)
RED = (166, 27, 27)

REVOKED_MESSAGE = "Chứng nhận này đã bị thu hồi nên không còn chia sẻ hay tải huy hiệu được."


@dataclass(frozen=True)
class Card:
    """What the preview picture shows; equal cards give identical pictures."""

    learner_name: str
    course_title: str
    commune_name: str
    place_and_date: str  # "Xã Minh Châu, ngày 05 tháng 3 năm 2026" (Decree 30/2020)
    code: str
    verify_url: str
    revoked: bool


def card_of(certificate: Certificate, settings: Settings) -> Card:
    issued = official_date(local(certificate.issued_at).date())
    place = f"{certificate.commune_name}, {issued}" if certificate.commune_name else issued.capitalize()
    return Card(
        learner_name=_nfc(certificate.learner_name), course_title=_nfc(certificate.course_title),
        commune_name=_nfc(certificate.commune_name), place_and_date=_nfc(place),
        code=services.display_code(certificate.code), verify_url=services.verify_url(settings, certificate.code),
        revoked=certificate.revoked_at is not None)


def card_etag(card: Card) -> str:
    return _etag("og", json.dumps(asdict(card), ensure_ascii=False, sort_keys=True))


def _etag(kind: str, content: str) -> str:
    digest = hashlib.sha256(f"{kind}\n{RENDER_VERSION}\n{content}".encode()).hexdigest()[:32]
    return f'"{kind}-{digest}"'


def _nfc(text: str) -> str:
    # A name typed with combining marks would be drawn with marks the font places apart.
    return unicodedata.normalize("NFC", text or "")


# --- Drawing -------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def font(style: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / FONT_FILES[style]), size)


def _width(text: str, face: ImageFont.FreeTypeFont) -> float:
    return face.getlength(text)


def _fitted(text: str, style: str, size: int, smallest: int, width: int) -> ImageFont.FreeTypeFont:
    """The largest size from `size` down to `smallest` at which text fits on one line."""
    while size > smallest and _width(text, font(style, size)) > width:
        size -= 2
    return font(style, size)


def _lines(text: str, face: ImageFont.FreeTypeFont, width: int, most: int) -> list[str]:
    """Words wrapped to `width`, at most `most` lines; the last one cut with "…" if need be."""
    lines: list[str] = []
    for word in text.split():
        if lines and _width(f"{lines[-1]} {word}", face) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    if len(lines) > most:
        last = " ".join(lines[most - 1:])
        while last and _width(last + "…", face) > width:
            last = last[:-1].rstrip()
        lines = lines[:most - 1] + [last + "…"]
    # A single word wider than the line is cut rather than drawn past the border.
    return [_cut(line, face, width) for line in lines]


def _cut(line: str, face: ImageFont.FreeTypeFont, width: int) -> str:
    if _width(line, face) <= width:
        return line
    while line and _width(line + "…", face) > width:
        line = line[:-1]
    return line + "…"


def _centred(draw: ImageDraw.ImageDraw, text: str, face: ImageFont.FreeTypeFont, centre_x: float,
             top: float, fill: tuple[int, int, int]) -> float:
    """Draw text centred on centre_x with its top at `top`; returns the bottom of the line."""
    draw.text((centre_x, top), text, font=face, fill=fill, anchor="ma")
    ascent, descent = face.getmetrics()
    return top + ascent + descent


def _qr_image(data: str, size: int) -> Image.Image:
    code = Image.open(io.BytesIO(qr_png(data, box_size=1, border=2))).convert("L")
    modules = code.width
    scale = max(1, size // modules)
    # Whole pixels per module: a scaled-down code with blurred edges scans badly.
    return code.resize((modules * scale, modules * scale), Image.Resampling.NEAREST)


def _stamp(image: Image.Image, text: str, size: int) -> Image.Image:
    """A red "ĐÃ THU HỒI" stamp across the middle of the picture."""
    face = font("bold", size)
    box = face.getbbox(text)
    pad = size // 4
    layer = Image.new("RGBA", (box[2] + 2 * pad, box[3] + 2 * pad), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    draw.rectangle((4, 4, layer.width - 5, layer.height - 5), outline=RED + (230,), width=8)
    draw.text((pad, pad), text, font=face, fill=RED + (230,))
    layer = layer.rotate(14, expand=True, resample=Image.Resampling.BICUBIC)
    base = image.convert("RGBA")
    base.alpha_composite(layer, ((base.width - layer.width) // 2, (base.height - layer.height) // 2))
    return base.convert("RGB")


def _png(image: Image.Image, info: PngInfo | None = None) -> bytes:
    # A few dozen colours keep anti-aliased text smooth and the file small (chat apps
    # refuse or recompress large previews).
    quantised = image.quantize(colors=48, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    quantised.save(out, format="PNG", optimize=True, pnginfo=info)
    return out.getvalue()


@functools.lru_cache(maxsize=64)
def open_graph_png(card: Card) -> bytes:
    """The 1200×630 preview: the certificate as a chat app shows it next to a shared link."""
    image = Image.new("RGB", (OG_WIDTH, OG_HEIGHT), PAPER)
    draw = ImageDraw.Draw(image)
    draw.rectangle((14, 14, OG_WIDTH - 15, OG_HEIGHT - 15), outline=BROWN, width=6)
    draw.rectangle((28, 28, OG_WIDTH - 29, OG_HEIGHT - 29), outline=BROWN, width=2)

    # The heading of an official document (Decree 30/2020): the issuer left, the nation right.
    left, right = 300, 870
    issuer_lines = ["ỦY BAN NHÂN DÂN", card.commune_name.upper()] if card.commune_name else ["BÌNH DÂN HỌC VỤ SỐ"]
    top = 52
    for line in issuer_lines:
        top = _centred(draw, line, _fitted(line, "bold", 24, 16, 470), left, top, INK)
    draw.line((left - 60, top + 6, left + 60, top + 6), fill=INK, width=2)
    nation = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    motto = "Độc lập - Tự do - Hạnh phúc"
    bottom = _centred(draw, nation, font("bold", 22), right, 52, INK)
    bottom = _centred(draw, motto, font("semibold", 22), right, bottom, INK)
    motto_width = _width(motto, font("semibold", 22))
    draw.line((right - motto_width / 2, bottom + 4, right + motto_width / 2, bottom + 4), fill=INK, width=2)

    centre, width = OG_WIDTH / 2, OG_WIDTH - 160
    top = _centred(draw, "GIẤY CHỨNG NHẬN", font("bold", 60), centre, 142, RED)
    top = _centred(draw, "Hoàn thành khóa học kỹ năng số · Phong trào Bình dân học vụ số",
                   font("regular", 24), centre, top + 2, MUTED)
    name_face = _fitted(card.learner_name, "bold", 66, 30, width)
    # Only a name past any real one's length is cut; the page shows it whole.
    top = _centred(draw, _cut(card.learner_name, name_face, width), name_face, centre, top + 14, INK)
    top = _centred(draw, "đã hoàn thành khóa học", font("regular", 26), centre, top + 4, MUTED)
    course_face = _fitted(card.course_title, "semibold", 40, 32, width)
    for line in _lines(card.course_title, course_face, width, 2):
        top = _centred(draw, line, course_face, centre, top + 2, INK)

    qr = _qr_image(card.verify_url, 150)
    qr_left, qr_top = OG_WIDTH - 48 - qr.width, OG_HEIGHT - 48 - qr.height
    image.paste(qr.convert("RGB"), (qr_left, qr_top))
    text_width = qr_left - 90
    draw.text((64, OG_HEIGHT - 124), _cut(card.place_and_date, font("italic", 26), text_width),
              font=font("italic", 26), fill=INK)
    draw.text((64, OG_HEIGHT - 82), f"Mã chứng nhận: {card.code}", font=font("semibold", 24), fill=INK)

    if card.revoked:
        image = _stamp(image, "ĐÃ THU HỒI", 110)
    return _png(image)


# --- LinkedIn ------------------------------------------------------------------


def linkedin_url(certificate: Certificate, settings: Settings) -> str:
    """LinkedIn's "add to profile" link, filled with the certificate's name, issuer, date, code and URL."""
    refuse_revoked(certificate)
    issued = local(certificate.issued_at)
    params = {
        "startTask": "CERTIFICATION_NAME",
        "name": _nfc(certificate.course_title),
        "organizationName": _nfc(services.issuer_name(certificate.commune_name, settings)),
        "issueYear": str(issued.year),
        "issueMonth": str(issued.month),
        "certUrl": services.verify_url(settings, certificate.code),
        "certId": services.display_code(certificate.code),
    }
    return f"{LINKEDIN_ADD}?{urlencode(params, quote_via=quote)}"


def refuse_revoked(certificate: Certificate) -> None:
    """A revoked certificate is not shared: no LinkedIn entry, no badge to download."""
    if certificate.revoked_at is not None:
        raise ServiceError("revoked", REVOKED_MESSAGE, 410)


# --- Baked Open Badges (OB 3.0 §5.3, "Baking") ---------------------------------


def credential_text(credential: dict) -> str:
    """The credential as the JSON route sends it (compact, UTF-8, nothing escaped that need not be)."""
    return json.dumps(credential, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def badge_etag(credential: dict, kind: str) -> str:
    return _etag(kind, credential_text(credential))


def _badge_lines(course_title: str, width: int = 330) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    for size in (40, 36, 32, 28):
        face = font("bold", size)
        lines = _lines(course_title, face, width, 4)
        if not lines[-1].endswith("…"):
            return face, lines
    return face, lines


def _badge_image(course_title: str, issuer: str) -> Image.Image:
    size = BADGE_SIZE
    image = Image.new("RGB", (size, size), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.ellipse((8, 8, size - 9, size - 9), fill=RED)
    draw.ellipse((30, 30, size - 31, size - 31), fill=PAPER, outline=BROWN, width=4)
    centre = size / 2
    _centred(draw, "CHỨNG NHẬN", font("bold", 30), centre, 70, RED)
    face, lines = _badge_lines(course_title)
    ascent, descent = face.getmetrics()
    top = centre - len(lines) * (ascent + descent) / 2
    for line in lines:
        top = _centred(draw, line, face, centre, top, INK)
    _centred(draw, "Bình dân học vụ số", font("semibold", 24), centre, size - 140, BROWN)
    issuer_face = _fitted(issuer, "regular", 20, 14, 300)
    _centred(draw, _cut(issuer, issuer_face, 300), issuer_face, centre, size - 108, MUTED)
    return image


def _badge_text(certificate: Certificate, settings: Settings) -> tuple[str, str]:
    return (_nfc(certificate.course_title), _nfc(services.issuer_name(certificate.commune_name, settings)))


def baked_png(certificate: Certificate, credential: dict, settings: Settings) -> bytes:
    """A badge PNG with the signed credential in an uncompressed iTXt chunk "openbadgecredential"."""
    refuse_revoked(certificate)
    return _baked_png(*_badge_text(certificate, settings), credential_text(credential))


@functools.lru_cache(maxsize=32)
def _baked_png(course_title: str, issuer: str, credential_json: str) -> bytes:
    info = PngInfo()
    # OB 3.0: compression MUST NOT be used; language tag and translated keyword stay empty.
    info.add_itxt(OB_PNG_KEYWORD, credential_json, lang="", tkey="", zip=False)
    return _png(_badge_image(course_title, issuer), info)


def baked_svg(certificate: Certificate, credential: dict, settings: Settings) -> str:
    """A badge SVG whose first child is <openbadges:credential> with the credential in CDATA."""
    refuse_revoked(certificate)
    course_title, issuer = _badge_text(certificate, settings)
    # "]]>" can only occur inside a JSON string, where "\u003e" parses to the same ">".
    payload = credential_text(credential).replace("]]>", "]]\\u003e")
    # Measured narrower: a viewer without Be Vietnam Pro draws with a wider fallback font.
    face, lines = _badge_lines(course_title, 290)
    line_height = sum(face.getmetrics())
    top = BADGE_SIZE / 2 - len(lines) * line_height / 2 + face.getmetrics()[0]
    course = "".join(
        f'<text x="256" y="{top + i * line_height:.0f}" font-size="{face.size}" font-weight="700" '
        f'fill="#1a1a1a">{escape(line)}</text>' for i, line in enumerate(lines))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="{OB_NAMESPACE}" '
        f'viewBox="0 0 {BADGE_SIZE} {BADGE_SIZE}" width="{BADGE_SIZE}" height="{BADGE_SIZE}" '
        f'role="img" aria-label={quoteattr(course_title)}>'
        f"<openbadges:credential><![CDATA[{payload}]]></openbadges:credential>"
        f"<title>{escape(course_title)}</title>"
        '<g font-family="\'Be Vietnam Pro\',\'Noto Sans\',\'DejaVu Sans\',Arial,sans-serif" text-anchor="middle">'
        '<circle cx="256" cy="256" r="248" fill="#a61b1b"/>'
        '<circle cx="256" cy="256" r="226" fill="#fffdf6" stroke="#7a4b00" stroke-width="4"/>'
        '<text x="256" y="100" font-size="30" font-weight="700" fill="#a61b1b">CHỨNG NHẬN</text>'
        f"{course}"
        '<text x="256" y="396" font-size="24" font-weight="600" fill="#7a4b00">Bình dân học vụ số</text>'
        f'<text x="256" y="428" font-size="18" fill="#4a4a4a">{escape(issuer)}</text>'
        "</g></svg>\n")
