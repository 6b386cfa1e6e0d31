"""The printable certificate as a one-page A4 landscape PDF.

The layout follows the look of a Vietnamese administrative paper: issuer top left,
national heading top right, place and date with the signer bottom right. A QR code
bottom left leads to the public verification page.

Text is drawn with the bundled DejaVu Sans (see fonts/README.md), embedded as a subset,
so every Vietnamese diacritic shows and the text stays searchable and copyable. All
sizes are in millimetres unless a name says points (pt).
"""

import io
import unicodedata
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, time
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import MethodReturnValue

from lms.qr import qr_png
from lms.text import official_date

FONT_DIR = Path(__file__).parent / "fonts"
FONT_FAMILY = "DejaVu"
FONT_FILES = {"": FONT_DIR / "DejaVuSans.ttf", "B": FONT_DIR / "DejaVuSans-Bold.ttf"}

PAGE_W, PAGE_H = 297.0, 210.0
MM_PER_PT = 25.4 / 72
LINE_SPACING = 1.3  # line height as a multiple of the font size

INK = (25, 25, 25)
RED = (165, 28, 36)

# Columns: the issuer and the QR code on the left, the national heading and the signer on the right.
LEFT_X, LEFT_W = 18.0, 112.0
RIGHT_X, RIGHT_W = 146.0, 133.0
BODY_X, BODY_W = 22.0, PAGE_W - 44.0
QR_SIZE = 40.0
BOTTOM_Y = 136.0  # where the QR code and the date line start; the middle block stays above it

NATIONAL_NAME = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
NATIONAL_MOTTO = "Độc lập - Tự do - Hạnh phúc"
TITLE = "GIẤY CHỨNG NHẬN"
SUBTITLE = "Hoàn thành khóa học kỹ năng số"
MOVEMENT = "Phong trào Bình dân học vụ số"


@dataclass(frozen=True)
class CertificateText:
    learner_name: str  # e.g. "Nguyễn Thị Hồng Nhung"
    course_title: str
    issued_on: date
    commune_name: str  # issuing commune, e.g. "Phường Hoàn Kiếm"
    province_name: str  # may be ""
    signer_title: str  # may contain "\n", e.g. "TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH"
    signer_name: str  # may be ""
    code: str  # e.g. "HVS-7K2M-9QXD-4TBW-8HNC-3RPA"
    verify_url: str  # e.g. "https://hocvuso.example.vn/c/HVS-7K2M-9QXD-4TBW-8HNC-3RPA"
    revoked_on: date | None = None  # set: the page says "ĐÃ THU HỒI" across it


def _nfc(text: CertificateText) -> CertificateText:
    """Composed characters only: the PDF draws one glyph per character, without shaping,
    so a decomposed "ê" + combining acute would print its accent misplaced."""
    changes = {
        f.name: unicodedata.normalize("NFC", value).strip()
        for f in fields(text)
        if isinstance(value := getattr(text, f.name), str)
    }
    return replace(text, **changes)


def date_line(text: CertificateText) -> str:
    return f"{text.commune_name}, {official_date(text.issued_on)}"


class _Certificate(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.set_auto_page_break(False)
        self.set_margins(0, 0, 0)
        self.c_margin = 0
        for style, path in FONT_FILES.items():
            self.add_font(FONT_FAMILY, style, path)
        self.set_text_color(*INK)

    # -- text helpers -----------------------------------------------------------------------

    def _lines(self, text: str, width: float) -> list[str]:
        return self.multi_cell(width, text=text, dry_run=True, output=MethodReturnValue.LINES)

    def fit(
        self,
        text: str,
        *,
        width: float,
        style: str = "",
        size: float,
        min_size: float,
        max_lines: int = 1,
        max_height: float | None = None,
        one_line_first: bool = False,
    ) -> tuple[float, list[str]]:
        """The largest font size, from `size` down to `min_size` in half points, at which
        `text` fits `width` in at most `max_lines` lines (and `max_height` mm). With
        `one_line_first`, shrinking to stay on one line beats wrapping. At `min_size` the
        text is cut with an ellipsis rather than spill off the page."""
        attempts = [1, max_lines] if one_line_first and max_lines > 1 else [max_lines]
        for allowed in attempts:
            current = size
            while True:
                self.set_font(FONT_FAMILY, style, current)
                lines = self._lines(text, width)
                height = len(lines) * current * MM_PER_PT * LINE_SPACING
                if len(lines) <= allowed and (max_height is None or height <= max_height):
                    return current, lines
                if current <= min_size:
                    break
                current = max(min_size, current - 0.5)
        keep = max_lines
        if max_height is not None:
            keep = max(1, min(keep, int(max_height // (current * MM_PER_PT * LINE_SPACING))))
        lines = lines[:keep]
        last = lines[-1]
        while last and self.get_string_width(last + "…") > width:
            last = last[:-1].rstrip()
        lines[-1] = last + "…"
        return current, lines

    def centred(
        self,
        text: str,
        *,
        y: float,
        x: float = BODY_X,
        width: float = BODY_W,
        style: str = "",
        size: float,
        min_size: float | None = None,
        max_lines: int = 1,
        max_height: float | None = None,
        one_line_first: bool = False,
        color: tuple[int, int, int] = INK,
        link: str | None = None,
    ) -> float:
        """Draws `text` centred in the column, shrunk or wrapped to fit; returns the y below it."""
        if not text:
            return y
        size, lines = self.fit(
            text,
            width=width,
            style=style,
            size=size,
            min_size=size if min_size is None else min_size,
            max_lines=max_lines,
            max_height=max_height,
            one_line_first=one_line_first,
        )
        self.set_font(FONT_FAMILY, style, size)
        self.set_text_color(*color)
        line_h = size * MM_PER_PT * LINE_SPACING
        for line in lines:
            self.set_xy(x, y)
            self.cell(width, line_h, line, align="C", link=link or "")
            y += line_h
        self.set_text_color(*INK)
        return y

    def rule(self, x_centre: float, y: float, length: float, *, width: float = 0.3) -> None:
        self.set_draw_color(*INK)
        self.set_line_width(width)
        self.line(x_centre - length / 2, y, x_centre + length / 2, y)

    # -- parts ------------------------------------------------------------------------------

    def border(self) -> None:
        self.set_draw_color(*RED)
        self.set_line_width(0.9)
        self.rect(7, 7, PAGE_W - 14, PAGE_H - 14)
        self.set_line_width(0.3)
        self.rect(9.5, 9.5, PAGE_W - 19, PAGE_H - 19)

    def heading(self, text: CertificateText) -> None:
        # Left: the province (when known) and the issuing commune's People's Committee.
        y = 17.0
        y = self.centred(text.province_name.upper(), y=y, x=LEFT_X, width=LEFT_W, size=11.5, min_size=8)
        issuer = f"ỦY BAN NHÂN DÂN {text.commune_name.upper()}".strip()
        y = self.centred(issuer, y=y, x=LEFT_X, width=LEFT_W, style="B", size=11.5, min_size=8, max_lines=2)
        self.rule(LEFT_X + LEFT_W / 2, y + 1.2, 28)

        # Right: the national name and motto, the motto underlined to its own length.
        y = self.centred(NATIONAL_NAME, y=17.0, x=RIGHT_X, width=RIGHT_W, style="B", size=12)
        y = self.centred(NATIONAL_MOTTO, y=y, x=RIGHT_X, width=RIGHT_W, style="B", size=13)
        self.rule(RIGHT_X + RIGHT_W / 2, y + 0.6, self.get_string_width(NATIONAL_MOTTO))

    def body(self, text: CertificateText) -> None:
        y = self.centred(TITLE, y=40.0, style="B", size=32, color=RED)
        y = self.centred(SUBTITLE, y=y + 2.5, style="B", size=15)
        y = self.centred(MOVEMENT, y=y + 0.5, size=12.5)

        y = self.centred("Chứng nhận:", y=y + 4.5, size=12.5)
        y = self.centred(
            text.learner_name, y=y + 0.5, style="B", size=28, min_size=14, max_lines=2, one_line_first=True
        )

        y = self.centred("Đã hoàn thành khóa học:", y=y + 2.5, size=12.5)
        self.centred(
            text.course_title,
            y=y + 0.5,
            style="B",
            size=17,
            min_size=11,
            max_lines=3,
            max_height=BOTTOM_Y - 3 - (y + 0.5),
        )

    def verification(self, text: CertificateText) -> None:
        centre = LEFT_X + LEFT_W / 2
        self.image(
            io.BytesIO(qr_png(text.verify_url)), x=centre - QR_SIZE / 2, y=BOTTOM_Y, w=QR_SIZE, h=QR_SIZE
        )
        y = BOTTOM_Y + QR_SIZE + 1.5
        y = self.centred(f"Mã chứng nhận: {text.code}", y=y, x=LEFT_X, width=LEFT_W, size=10, min_size=7)
        self.centred(
            f"Kiểm tra tại: {text.verify_url}",
            y=y,
            x=LEFT_X,
            width=LEFT_W,
            size=9,
            min_size=6.5,
            max_lines=2,
            one_line_first=True,
            link=text.verify_url,
        )

    def signature(self, text: CertificateText) -> None:
        y = self.centred(
            date_line(text),
            y=BOTTOM_Y,
            x=RIGHT_X,
            width=RIGHT_W,
            size=12.5,
            min_size=9,
            max_lines=2,
            one_line_first=True,
        )
        y += 1.5
        for line in text.signer_title.splitlines():
            y = self.centred(line.strip(), y=y, x=RIGHT_X, width=RIGHT_W, style="B", size=12.5, min_size=9)
        # Room for the signature and the seal, then the signer's name, inside the border.
        self.centred(
            text.signer_name,
            y=min(max(y + 20, 178.0), 192.0),
            x=RIGHT_X,
            width=RIGHT_W,
            style="B",
            size=13.5,
            min_size=9,
        )


REVOKED = "ĐÃ THU HỒI"


def _revoked_mark(pdf: "_Certificate", text: CertificateText) -> None:
    """Across the whole page, over everything: a revoked certificate cannot be printed clean."""
    assert text.revoked_on is not None
    with pdf.local_context(fill_opacity=0.35, text_color=RED):
        pdf.set_font(FONT_FAMILY, "B", 80)
        width = pdf.get_string_width(REVOKED)
        with pdf.rotation(angle=20, x=PAGE_W / 2 + 12, y=PAGE_H / 2 - 8):
            pdf.set_xy(PAGE_W / 2 + 12 - width / 2, PAGE_H / 2 - 8 - 15)
            pdf.cell(width, 30, REVOKED, align="C")
    notice = (f"Chứng nhận này đã bị thu hồi {official_date(text.revoked_on)} và không còn giá trị. "
              f"Xem tình trạng tại {text.verify_url}")
    pdf.centred(notice, y=11.5, x=14.0, width=PAGE_W - 28.0, style="B", size=9.5, min_size=7, color=RED)


def render_pdf(text: CertificateText) -> bytes:
    """The certificate as PDF bytes: one A4 landscape page. The same input gives the same bytes."""
    text = _nfc(text)
    pdf = _Certificate()
    pdf.set_title(f"Giấy chứng nhận - {text.learner_name}")
    pdf.set_author(text.commune_name)
    pdf.set_subject(text.course_title)
    pdf.set_keywords(text.code)
    pdf.set_creator("hocvuso")
    pdf.set_lang("vi-VN")
    pdf.set_creation_date(datetime.combine(text.issued_on, time(), tzinfo=UTC))
    pdf.add_page()
    pdf.border()
    pdf.heading(text)
    pdf.body(text)
    pdf.verification(text)
    pdf.signature(text)
    if text.revoked_on is not None:
        pdf.set_title(f"ĐÃ THU HỒI - Giấy chứng nhận - {text.learner_name}")
        _revoked_mark(pdf, text)
    return bytes(pdf.output())
