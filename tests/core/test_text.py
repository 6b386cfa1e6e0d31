import unicodedata

import pytest

from lms.text import InvalidInput, fold, normalize_name, normalize_phone


@pytest.mark.parametrize("typed", [
    "0912 345 678", "+84 912345678", "84912345678", "091.234.5678", "０９１２３４５６７８",
    "(091) 234-5678", "+84 91 234 5678",
])
def test_every_way_of_typing_a_number_is_one_number(typed):
    assert normalize_phone(typed) == "0912345678"


@pytest.mark.parametrize(("typed", "reason"), [
    ("912345678", "10 chữ số"),          # nine digits
    ("01912345678", "10 chữ số"),        # old eleven-digit number
    ("09123abc78", "chỉ gồm chữ số"),    # letters
    ("0212345678", "bắt đầu bằng"),      # not a mobile prefix
    ("+1 912 345 678", "+84"),           # foreign
    ("", "nhập số điện thoại"),
])
def test_bad_numbers_are_refused_with_a_reason(typed, reason):
    with pytest.raises(InvalidInput) as excinfo:
        normalize_phone(typed)
    assert reason in str(excinfo.value)


def test_decomposed_and_precomposed_names_are_the_same_name():
    precomposed = "Nguyễn Thị Hồng"
    decomposed = unicodedata.normalize("NFD", "  Nguyễn   Thị Hồng ")
    assert decomposed != precomposed
    assert normalize_name(decomposed) == precomposed
    assert unicodedata.is_normalized("NFC", normalize_name(decomposed))


@pytest.mark.parametrize("bad", ["", "A", "Nguyễn 2", "x" * 101, "<script>"])
def test_names_must_be_names(bad):
    with pytest.raises(InvalidInput):
        normalize_name(bad)


def test_fold_drops_diacritics_for_search():
    assert fold("Đặng Thị Ánh") == "dang thi anh"


@pytest.mark.parametrize(("day", "expected"), [
    ((2025, 3, 7), "ngày 07 tháng 3 năm 2025"),
    ((2025, 2, 15), "ngày 15 tháng 02 năm 2025"),
    ((2026, 11, 29), "ngày 29 tháng 11 năm 2026"),
    ((2026, 1, 1), "ngày 01 tháng 01 năm 2026"),
])
def test_official_date_follows_decree_30(day, expected):
    from datetime import date

    from lms.text import official_date

    assert official_date(date(*day)) == expected
