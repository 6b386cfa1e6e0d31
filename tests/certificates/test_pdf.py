"""The PDF certificate: readable Vietnamese text, one A4 landscape page, a QR code that scans."""

import dataclasses
import io
import unicodedata
from datetime import date
from pathlib import Path

import pypdf
import pypdfium2
import pytest
import zxingcpp
from PIL import Image

from lms.plugins.certificates import pdf as certificate_pdf
from lms.plugins.certificates.pdf import CertificateText, render_pdf
from lms.qr import qr_png, qr_svg

CODE = "HVS-7K2M-9QXD-4TBW-8HNC-3RPA"
URL = f"https://hocvuso.example.vn/c/{CODE}"

SAMPLE = CertificateText(
    learner_name="Nguyễn Thị Hồng Nhung",
    course_title="Sử dụng dịch vụ công trực tuyến",
    issued_on=date(2025, 3, 7),
    commune_name="Phường Hoàn Kiếm",
    province_name="Thành phố Hà Nội",
    signer_title="TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH",
    signer_name="Trần Văn Minh",
    code=CODE,
    verify_url=URL,
)


def render_to(tmp_path: Path, text: CertificateText = SAMPLE, name: str = "certificate.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(render_pdf(text))
    return path


def page_lines(path: Path) -> list[str]:
    reader = pypdf.PdfReader(path)
    return [line.strip() for line in reader.pages[0].extract_text().splitlines()]


def flat(lines: list[str]) -> str:
    return " ".join(" ".join(lines).split())


def qr_codes(image: Image.Image) -> list[zxingcpp.Barcode]:
    return [b for b in zxingcpp.read_barcodes(image) if b.format == zxingcpp.BarcodeFormat.QRCode]


@pytest.mark.parametrize("learner_name", ["Nguyễn Thị Hồng Nhung", "Đặng Quốc Vượng"])
def test_text_keeps_every_diacritic(tmp_path: Path, learner_name: str) -> None:
    lines = page_lines(render_to(tmp_path, dataclasses.replace(SAMPLE, learner_name=learner_name)))

    assert learner_name in lines  # centred on a line of its own, every diacritic intact
    text = flat(lines)
    assert "Sử dụng dịch vụ công trực tuyến" in text
    assert "TM. ỦY BAN NHÂN DÂN" in lines
    assert "CHỦ TỊCH" in lines
    assert "Trần Văn Minh" in lines
    assert "Phường Hoàn Kiếm, ngày 07 tháng 3 năm 2025" in lines
    assert f"Mã chứng nhận: {CODE}" in text
    assert f"Kiểm tra tại: {URL}" in text
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
    assert "Độc lập - Tự do - Hạnh phúc" in text
    assert "ỦY BAN NHÂN DÂN PHƯỜNG HOÀN KIẾM" in text
    assert "THÀNH PHỐ HÀ NỘI" in text
    assert "GIẤY CHỨNG NHẬN" in text
    assert text == unicodedata.normalize("NFC", text)


def test_one_landscape_a4_page(tmp_path: Path) -> None:
    reader = pypdf.PdfReader(render_to(tmp_path))

    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert float(box.width) == pytest.approx(842, abs=1)
    assert float(box.height) == pytest.approx(595, abs=1)


def test_fonts_are_embedded_dejavu(tmp_path: Path) -> None:
    reader = pypdf.PdfReader(render_to(tmp_path))
    fonts = [font.get_object() for font in reader.pages[0]["/Resources"]["/Font"].values()]

    assert fonts
    for font in fonts:
        assert "DejaVu" in font["/BaseFont"]
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor  # embedded, not left to the reader's fonts
    assert {font["/BaseFont"].split("+")[-1] for font in fonts} == {"DejaVuSansBook", "DejaVuSansBold"}


def test_metadata_and_repeatable_output(tmp_path: Path) -> None:
    path = render_to(tmp_path)
    meta = pypdf.PdfReader(path).metadata

    assert meta.title == "Giấy chứng nhận - Nguyễn Thị Hồng Nhung"
    assert meta.author == "Phường Hoàn Kiếm"
    assert meta.creation_date.date() == date(2025, 3, 7)
    assert render_pdf(SAMPLE) == path.read_bytes()


def test_qr_code_on_the_page_scans_to_the_verify_url(tmp_path: Path) -> None:
    document = pypdfium2.PdfDocument(render_to(tmp_path))
    try:
        image = document[0].render(scale=3).to_pil()
    finally:
        document.close()

    codes = qr_codes(image)
    assert len(codes) == 1
    assert codes[0].text == URL


def test_long_name_still_fits_one_line_on_one_page(tmp_path: Path) -> None:
    long_name = "Tôn Nữ Thị Phương Thảo Nguyễn Hoàng Bảo Ngọc Trần Lê Quỳnh A"
    assert len(long_name) == 60
    path = render_to(tmp_path, dataclasses.replace(SAMPLE, learner_name=long_name))

    assert len(pypdf.PdfReader(path).pages) == 1
    assert long_name in page_lines(path)


def test_long_course_title_wraps_and_stays_on_the_page(tmp_path: Path) -> None:
    title = "Sử dụng điện thoại thông minh an toàn: dịch vụ công trực tuyến và thanh toán không dùng tiền mặt"
    path = render_to(tmp_path, dataclasses.replace(SAMPLE, course_title=title))

    assert len(pypdf.PdfReader(path).pages) == 1
    assert title in flat(page_lines(path))


def test_decomposed_input_is_drawn_composed(tmp_path: Path) -> None:
    nfd = unicodedata.normalize("NFD", "Đặng Quốc Vượng")
    path = render_to(tmp_path, dataclasses.replace(SAMPLE, learner_name=nfd))

    assert "Đặng Quốc Vượng" in page_lines(path)


def test_optional_fields_may_be_empty(tmp_path: Path) -> None:
    text = dataclasses.replace(SAMPLE, province_name="", signer_name="", signer_title="GIÁM ĐỐC")
    path = render_to(tmp_path, text)

    assert len(pypdf.PdfReader(path).pages) == 1
    lines = page_lines(path)
    assert "GIÁM ĐỐC" in lines
    assert "THÀNH PHỐ HÀ NỘI" not in flat(lines)
    assert "ỦY BAN NHÂN DÂN PHƯỜNG HOÀN KIẾM" in flat(lines)


def test_qr_png_decodes() -> None:
    image = Image.open(io.BytesIO(qr_png(URL))).convert("L")

    codes = qr_codes(image)
    assert [code.text for code in codes] == [URL]


def test_qr_svg_is_an_inline_scalable_element() -> None:
    svg = qr_svg(URL)

    assert svg.startswith("<svg")
    assert "<?xml" not in svg
    assert "viewBox" in svg
    assert "<path" in svg
    opening = svg.split(">", 1)[0]
    assert "width=" not in opening
    assert "height=" not in opening


def test_bundled_fonts_and_licence_exist() -> None:
    fonts = certificate_pdf.FONT_DIR
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        assert (fonts / name).stat().st_size > 100_000
    licence = (fonts / "LICENSE-DejaVu.txt").read_text()
    assert "Bitstream Vera" in licence
    assert "DejaVu" in licence
    assert (fonts / "README.md").is_file()
