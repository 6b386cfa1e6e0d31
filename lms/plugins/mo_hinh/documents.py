"""The yearly compilation of published models as a Word document (python-docx) and a PDF
(fpdf2 with Be Vietnam Pro, embedded as a subset so every Vietnamese mark prints and the text
stays searchable): a title page, then each model with its unit, field, description, results
and first photo. Only what the submitter agreed to show is in it."""

import io
import unicodedata
from datetime import date

from fontpkg_be_vietnam_pro import ROOT as BE_VIETNAM_PRO
from sqlmodel import Session

from lms.media import StoredImage, media_store
from lms.plugins.mo_hinh.models import ExemplaryModel
from lms.plugins.mo_hinh.services import SECTORS, Compilation, plain_paragraphs, public_contact, public_photos
from lms.text import official_date

FONT_DIR = BE_VIETNAM_PRO / "files"
FONT_FAMILY = "BeVietnamPro"
FONT_FILES = {"": "BeVietnamPro-Regular.ttf", "B": "BeVietnamPro-Bold.ttf", "I": "BeVietnamPro-Italic.ttf"}
NO_MODELS = "Chưa có mô hình nào được công bố trong năm này."
PHOTO_WIDTH_MM = 120.0


def _nfc(text: str) -> str:
    # One glyph per character and no shaping in the PDF: a decomposed mark would print apart.
    return unicodedata.normalize("NFC", text or "")


def _contact_line(model: ExemplaryModel) -> str:
    contact = public_contact(model)
    if contact is None:
        return ""
    return "Liên hệ: " + ", ".join(part for part in (contact.name, contact.phone, contact.email) if part)


def _first_photo(db: Session, settings: object, model: ExemplaryModel) -> tuple[bytes, int, int, str] | None:
    """The first photo the public may see, as JPEG (Word and PDF readers all know it), with its
    size in pixels and its alt text."""
    photos: list[StoredImage] = public_photos(model)
    if not photos:
        return None
    variant = photos[0].default
    data = media_store(settings).get(db, variant.key)
    if data is None:
        return None
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        flat = image.convert("RGB")
        out = io.BytesIO()
        flat.save(out, format="JPEG", quality=85)
        return out.getvalue(), flat.width, flat.height, photos[0].alt


def _subtitle(compilation: Compilation, made_on: date) -> str:
    count = len(compilation.models)
    return f"{count} mô hình đã công bố · lập {official_date(made_on)}"


def docx_bytes(db: Session, settings: object, compilation: Compilation, *, made_on: date) -> bytes:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
    from docx.shared import Mm, Pt

    document = Document()
    document.core_properties.title = _nfc(compilation.title)
    document.core_properties.language = "vi-VN"
    normal = document.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(13)

    title = document.add_paragraph(_nfc(compilation.title), style="Title")
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    subtitle = document.add_paragraph(_nfc(_subtitle(compilation, made_on)))
    subtitle.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if not compilation.models:
        document.add_paragraph(NO_MODELS)
    for number, model in enumerate(compilation.models, start=1):
        document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        document.add_heading(_nfc(f"{number}. {model.title}"), level=1)
        document.add_paragraph(_nfc(f"Đơn vị, cá nhân: {model.unit}"))
        document.add_paragraph(_nfc(f"Lĩnh vực: {SECTORS.get(model.sector, '')}"))
        document.add_heading("Mô tả", level=2)
        for paragraph in plain_paragraphs(model.description_md):
            document.add_paragraph(_nfc(paragraph))
        document.add_heading("Kết quả đạt được", level=2)
        for paragraph in plain_paragraphs(model.results_md):
            document.add_paragraph(_nfc(paragraph))
        photo = _first_photo(db, settings, model)
        if photo is not None:
            data, _width, _height, alt = photo
            document.add_picture(io.BytesIO(data), width=Mm(PHOTO_WIDTH_MM))
            caption = document.add_paragraph(_nfc(alt))
            caption.runs[0].italic = True
        contact = _contact_line(model)
        if contact:
            document.add_paragraph(_nfc(contact))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def pdf_bytes(db: Session, settings: object, compilation: Compilation, *, made_on: date) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(True, margin=20)
    for style, name in FONT_FILES.items():
        pdf.add_font(FONT_FAMILY, style, str(FONT_DIR / name))
    pdf.set_title(_nfc(compilation.title))
    pdf.set_lang("vi-VN")
    pdf.set_creator("hocvuso")

    def text(value: str, *, size: float = 12, style: str = "", align: str = "L", after: float = 2.0) -> None:
        pdf.set_font(FONT_FAMILY, style, size)
        pdf.multi_cell(0, size * 0.5, _nfc(value), align=align, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(after)

    pdf.add_page()
    pdf.set_y(90)
    text(compilation.title, size=22, style="B", align="C", after=6)
    text(_subtitle(compilation, made_on), size=12, align="C")
    if not compilation.models:
        text(NO_MODELS, align="C")
    for number, model in enumerate(compilation.models, start=1):
        pdf.add_page()
        text(f"{number}. {model.title}", size=16, style="B", after=3)
        text(f"Đơn vị, cá nhân: {model.unit}")
        text(f"Lĩnh vực: {SECTORS.get(model.sector, '')}", after=4)
        text("Mô tả", size=13, style="B")
        for paragraph in plain_paragraphs(model.description_md):
            text(paragraph)
        pdf.ln(2)
        text("Kết quả đạt được", size=13, style="B")
        for paragraph in plain_paragraphs(model.results_md):
            text(paragraph)
        photo = _first_photo(db, settings, model)
        if photo is not None:
            data, width, height, alt = photo
            shown_height = PHOTO_WIDTH_MM * height / width
            if pdf.get_y() + shown_height + 12 > pdf.h - pdf.b_margin:
                pdf.add_page()
            pdf.ln(2)
            pdf.image(io.BytesIO(data), x=pdf.l_margin, w=PHOTO_WIDTH_MM, h=shown_height)
            pdf.ln(1)
            text(alt, size=10, style="I")
        contact = _contact_line(model)
        if contact:
            text(contact)
    return bytes(pdf.output())
