"""Canonical forms of what people type: phone numbers, names, free text."""

import html
import re
import unicodedata
from datetime import date
from typing import Any

import nh3
from markdown_it import MarkdownIt

# Mobile numbers in Vietnam: 10 digits, 0 then 3, 5, 7, 8 or 9 (since 2018).
_MOBILE = re.compile(r"0[35789]\d{8}")
_PHONE_SEPARATORS = re.compile(r"[\s.\-()\u00a0]")
_SPACES = re.compile(r"\s+")


class InvalidInput(ValueError):
    """A value that cannot be put in canonical form; the message is for the user."""


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def clean_text(text: str | None, *, max_length: int) -> str:
    """NFC, trimmed, inner white space folded, at most max_length characters."""
    value = _SPACES.sub(" ", nfc(text or "")).strip()
    if len(value) > max_length:
        raise InvalidInput(f"Tối đa {max_length} ký tự.")
    return value


def normalize_phone(raw: str | None) -> str:
    """One canonical 10-digit form for every way a Vietnamese mobile number is typed."""
    # NFKC turns full-width digits and plus signs into ASCII ones.
    value = unicodedata.normalize("NFKC", raw or "").strip()
    if not value:
        raise InvalidInput("Vui lòng nhập số điện thoại.")
    value = _PHONE_SEPARATORS.sub("", value)
    if value.startswith("+"):
        if not value.startswith("+84"):
            raise InvalidInput("Chỉ nhận số điện thoại di động Việt Nam (+84).")
        value = "0" + value[3:]
    elif value.startswith("84") and len(value) == 11:
        value = "0" + value[2:]
    if not value.isascii() or not value.isdigit():
        raise InvalidInput("Số điện thoại chỉ gồm chữ số, ví dụ 0912 345 678.")
    if len(value) != 10:
        raise InvalidInput(
            "Số điện thoại di động phải có 10 chữ số, ví dụ 0912 345 678 "
            "(số 11 chữ số cũ đã được đổi sang 10 chữ số)."
        )
    if not _MOBILE.fullmatch(value):
        raise InvalidInput("Số điện thoại di động phải bắt đầu bằng 03, 05, 07, 08 hoặc 09.")
    return value


def normalize_name(raw: str | None) -> str:
    """A person's full name: NFC, trimmed, single spaces, letters only."""
    value = clean_text(raw, max_length=100)
    if not value:
        raise InvalidInput("Vui lòng nhập họ và tên.")
    letters = [ch for ch in value if ch.isalpha()]
    if len(letters) < 2:
        raise InvalidInput("Họ và tên quá ngắn.")
    if any(not (ch.isalpha() or ch in " '-.") for ch in value):
        raise InvalidInput("Họ và tên chỉ gồm chữ cái, không có chữ số hay ký hiệu.")
    return value


def fold(text: str) -> str:
    """Lowercase without diacritics, for matching what people search for."""
    decomposed = unicodedata.normalize("NFD", nfc(text).replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return stripped.casefold()


def official_date(value: date) -> str:
    """"ngày 07 tháng 3 năm 2025": days under 10 and months 1–2 get a leading zero
    (Decree 30/2020/NĐ-CP on the form of official documents)."""
    day = f"{value.day:02d}" if value.day < 10 else str(value.day)
    month = f"{value.month:02d}" if value.month < 3 else str(value.month)
    return f"ngày {day} tháng {month} năm {value.year}"


def parse_field(errors: dict[str, str], name: str, parse: Any, raw: Any) -> Any:
    """`parse(raw)`, or None with the Vietnamese reason stored under `name` in `errors`."""
    try:
        return parse(raw)
    except InvalidInput as exc:
        errors[name] = str(exc)
        return None


# Short texts people write on the site (answers, news): Markdown with no raw HTML, and of the
# HTML only what reads as text and links.
SHORT_TEXT_TAGS = frozenset({"p", "br", "strong", "em", "ul", "ol", "li", "a", "code"})
_short_markdown = MarkdownIt("commonmark", {"html": False})


def markdown_html(markdown: str | None, *, tags: frozenset[str] = SHORT_TEXT_TAGS) -> str:
    """Markdown as safe HTML: links stay links (never scripts), nothing else is active."""
    return nh3.clean(_short_markdown.render(nfc(markdown or "")), tags=set(tags),
                     attributes={"a": {"href"}, "ol": {"start"}},
                     url_schemes={"https", "http", "tel", "mailto"}, link_rel="noopener noreferrer")


def markdown_text(markdown: str | None) -> str:
    """Markdown as one line of plain text (for summaries, feeds, the loudspeaker)."""
    return " ".join(html.unescape(nh3.clean(_short_markdown.render(nfc(markdown or "")), tags=set())).split())
