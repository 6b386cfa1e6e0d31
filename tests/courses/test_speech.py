"""Lesson text made speakable: the Vietnamese reading of numbers, dates, times, phone numbers,
money and abbreviations, and Markdown turned into sentences for the machine voice."""

import re
import unicodedata

import pytest

from lms.plugins.courses.speech import expand, lesson_text, markdown_text, number_words


@pytest.mark.parametrize(("number", "words"), [
    (0, "không"),
    (5, "năm"),
    (10, "mười"),
    (11, "mười một"),
    (14, "mười bốn"),
    (15, "mười lăm"),
    (20, "hai mươi"),
    (21, "hai mươi mốt"),
    (24, "hai mươi tư"),
    (25, "hai mươi lăm"),
    (101, "một trăm linh một"),
    (105, "một trăm linh năm"),
    (110, "một trăm mười"),
    (1005, "một nghìn không trăm linh năm"),
    (1010, "một nghìn không trăm mười"),
    (2025, "hai nghìn không trăm hai mươi lăm"),
    (1_250_000, "một triệu hai trăm năm mươi nghìn"),
    (3_000_000_000, "ba tỷ"),
    (1_000_000_000_000, "một nghìn tỷ"),
    (-3, "âm ba"),
])
def test_numbers_are_read_the_vietnamese_way(number, words):
    assert number_words(number) == words


@pytest.mark.parametrize(("text", "spoken"), [
    ("Có 3 bước.", "Có ba bước."),
    ("Lãi 1.250.000 đồng", "Lãi một triệu hai trăm năm mươi nghìn đồng"),
    ("Phí 1000000đ", "Phí một triệu đồng"),
    ("giá 50k", "giá năm mươi nghìn"),
    ("tăng 20%", "tăng hai mươi phần trăm"),
    ("giảm 2,5%", "giảm hai phẩy năm phần trăm"),
    ("0,05", "không phẩy không năm"),
    ("từ 3-5 phút", "từ ba đến năm phút"),
    ("vào thứ 4", "vào thứ tư"),
    ("lần thứ 1", "lần thứ nhất"),
])
def test_quantities_become_words(text, spoken):
    assert expand(text) == spoken


@pytest.mark.parametrize(("text", "spoken"), [
    ("ngày 15/4/2025", "ngày mười lăm tháng tư năm hai nghìn không trăm hai mươi lăm"),
    ("Ngày 2/9 là Quốc khánh", "Ngày hai tháng chín là Quốc khánh"),
    ("tháng 4/2025", "tháng tư năm hai nghìn không trăm hai mươi lăm"),
    ("từ tháng 4", "từ tháng tư"),
    ("lúc 7h30", "lúc bảy giờ ba mươi phút"),
    ("lúc 8:05", "lúc tám giờ năm phút"),
    ("mở cửa 7h", "mở cửa bảy giờ"),
    ("14 giờ 30 phút", "mười bốn giờ ba mươi phút"),
    ("phục vụ 24/7", "phục vụ hai mươi tư trên bảy"),
])
def test_dates_and_times_are_read_as_dates_and_times(text, spoken):
    assert expand(text) == spoken


@pytest.mark.parametrize(("text", "spoken"), [
    ("Gọi 0912 345 678 nhé", "Gọi không chín một hai, ba bốn năm, sáu bảy tám nhé"),
    ("Gọi 0912.345.678", "Gọi không chín một hai, ba bốn năm, sáu bảy tám"),
    ("Hotline +84 912 345 678", "Hotline không chín một hai, ba bốn năm, sáu bảy tám"),
    ("Tổng đài 1900 1234.", "Tổng đài một chín không không, một hai ba bốn."),
])
def test_phone_numbers_are_read_digit_by_digit(text, spoken):
    assert expand(text) == spoken


def test_a_phone_number_does_not_swallow_the_number_after_it():
    assert expand("Gọi 0912 345 678 15 người") == (
        "Gọi không chín một hai, ba bốn năm, sáu bảy tám, mười lăm người")


@pytest.mark.parametrize(("text", "spoken"), [
    ("UBND xã", "Ủy ban nhân dân xã"),
    ("mang CCCD", "mang căn cước công dân"),
    ("ở TP.HCM", "ở Thành phố Hồ Chí Minh"),
    ("nhập mã OTP", "nhập mã ô tê pê"),
    ("quét mã QR", "quét mã kiu a"),
])
def test_abbreviations_are_spelled_out(text, spoken):
    assert expand(text) == spoken


def test_an_abbreviation_inside_a_longer_word_is_left_alone():
    assert expand("PINGO và QRS") == "PINGO và QRS"


def test_text_comes_out_nfc_whatever_the_editor_typed():
    decomposed = unicodedata.normalize("NFD", "Hướng dẫn 2 bước")
    assert decomposed != "Hướng dẫn 2 bước"
    assert expand(decomposed) == "Hướng dẫn hai bước"


def test_markdown_becomes_sentences_with_list_numbers_read_and_links_shortened():
    markdown = ("# Chuyển tiền an toàn\n\n"
                "Trước khi chuyển:\n\n1. Mở ứng dụng\n2. Quét mã\n\n- kiểm tra tên\n- kiểm tra số tiền\n\n"
                "```\nmã máy\n```\n\n![ảnh quầy rau](anh.png)\n\n"
                "Xem https://dichvucong.gov.vn/p/home nhé")
    text = markdown_text(markdown)
    assert text == ("Chuyển tiền an toàn. Trước khi chuyển: Một, Mở ứng dụng. Hai, Quét mã. "
                    "kiểm tra tên. kiểm tra số tiền. Xem dichvucong chấm gov chấm vn nhé.")
    assert "mã máy" not in text and "anh.png" not in text


def test_an_ordered_list_keeps_its_start_number():
    assert markdown_text("3. Bấm gửi\n4. Chờ tin nhắn") == "Ba, Bấm gửi. Bốn, Chờ tin nhắn."


def test_a_whole_lesson_has_no_digits_left_for_the_voice():
    body = ("Ngày 15/4/2025, UBND xã mở lớp lúc 7h30 cho 40 người. Phí 0 đồng; hỏi 0912 345 678.\n\n"
            "1. Mang CCCD\n2. Cài VNeID trong 5-10 phút\n\nGiảm 30% thời gian đi lại, tiết kiệm 50.000 đồng.")
    text = lesson_text("Bài 1: Cài VNeID", body)
    assert not re.search(r"\d", text), text
    assert text.startswith("Bài một: Cài vi en i ai đi.")
    assert "mười lăm tháng tư năm hai nghìn không trăm hai mươi lăm" in text
    assert "bảy giờ ba mươi phút" in text and "bốn mươi người" in text
    assert "ba mươi phần trăm" in text and "năm mươi nghìn đồng" in text
