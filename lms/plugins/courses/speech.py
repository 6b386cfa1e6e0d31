"""Lesson text made speakable: Markdown to plain sentences, and numbers, dates, times, phone
numbers, percentages and abbreviations written out in Vietnamese words, which espeak-ng reads
far better than digit strings ("1.250.000" it reads as three numbers)."""

import re
import unicodedata

from markdown_it import MarkdownIt

from lms.plugins.courses.embeds import without_embed_lines

# Raised whenever a rule changes, so audio made by the old rules is made again.
RULES_VERSION = "2"

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
SCALES = ("", "nghìn", "triệu", "tỷ")

# Whole words, case as written. Longer forms first where one contains another.
ABBREVIATIONS = {
    "TP.HCM": "Thành phố Hồ Chí Minh",
    "TP. HCM": "Thành phố Hồ Chí Minh",
    "TPHCM": "Thành phố Hồ Chí Minh",
    "HCM": "Hồ Chí Minh",
    "UBND": "Ủy ban nhân dân",
    "HĐND": "Hội đồng nhân dân",
    "MTTQ": "Mặt trận Tổ quốc",
    "VNeID": "vi en i ai đi",
    "CCCD": "căn cước công dân",
    "CMND": "chứng minh nhân dân",
    "SĐT": "số điện thoại",
    "BHYT": "bảo hiểm y tế",
    "BHXH": "bảo hiểm xã hội",
    "NĐ-CP": "nghị định của Chính phủ",
    "QĐ-TTg": "quyết định của Thủ tướng",
    "QĐ": "quyết định",
    "BKHCN": "Bộ Khoa học và Công nghệ",
    "OTP": "ô tê pê",
    "QR": "kiu a",
    "ATM": "a tê em",
    "SMS": "ét em ét",
    "PIN": "pin",
    "Wi-Fi": "wai phai",
    "WiFi": "wai phai",
    "Wifi": "wai phai",
    "email": "i meo",
    "Email": "i meo",
    "Internet": "in tơ nét",
    "internet": "in tơ nét",
    "online": "trực tuyến",
    "TP.": "thành phố",
    "Tp.": "thành phố",
    "v.v.": "vân vân",
    "v.v": "vân vân",
    "km": "ki lô mét",
    "kg": "ki lô gam",
}
_ABBREVIATION = re.compile(
    r"(?<![\w.])(" + "|".join(re.escape(k) for k in sorted(ABBREVIATIONS, key=len, reverse=True)) + r")(?![\w])")


def _below_thousand(n: int, *, inner: bool) -> str:
    """0 < n < 1000; `inner`: a group after a larger one, so 25 reads "không trăm hai mươi lăm"."""
    hundreds, rest = divmod(n, 100)
    tens, units = divmod(rest, 10)
    words = []
    if hundreds or inner:
        words += [DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units and words:
            words += ["linh", DIGITS[units]]
        elif units:
            words.append(DIGITS[units])
        return " ".join(words)
    words += ["mười"] if tens == 1 else [DIGITS[tens], "mươi"]
    if units == 1:
        words.append("một" if tens == 1 else "mốt")
    elif units == 4:
        words.append("bốn" if tens == 1 else "tư")
    elif units == 5:
        words.append("lăm")
    elif units:
        words.append(DIGITS[units])
    return " ".join(words)


def number_words(n: int) -> str:
    """A whole number in words: 1250000 → "một triệu hai trăm năm mươi nghìn"."""
    if n < 0:
        return "âm " + number_words(-n)
    if n == 0:
        return "không"
    if n >= 1000**4:
        # Past the trillions Vietnamese repeats "tỷ": 5 000 tỷ = "năm nghìn tỷ".
        high, low = divmod(n, 1000**3)
        return number_words(high) + " tỷ" + (" " + _groups(low, inner=True) if low else "")
    return _groups(n, inner=False)


def _groups(n: int, *, inner: bool) -> str:
    groups = []
    while n:
        n, group = divmod(n, 1000)
        groups.append(group)
    words = []
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            continue
        leading = index == len(groups) - 1 and not inner
        words.append(_below_thousand(group, inner=not leading))
        if SCALES[index]:
            words.append(SCALES[index])
    return " ".join(words)


def digit_words(digits: str) -> str:
    """Digit by digit: "0912" → "không chín một hai"."""
    return " ".join(DIGITS[int(d)] for d in digits if d.isdigit())


def _decimal(whole: str, fraction: str) -> str:
    # "0,05" → "không phẩy không năm": leading zeros of the fraction are read, then the rest.
    zeros = len(fraction) - len(fraction.lstrip("0"))
    rest = fraction[zeros:]
    tail = ["không"] * zeros
    if rest:
        tail.append(number_words(int(rest)) if len(rest) <= 3 else digit_words(rest))
    return f"{number_words(int(whole))} phẩy {' '.join(tail)}"


def _amount(text: str, *, quantity: bool = False) -> str:
    """A written number: 1.250.000, 2,5, 15, 1,000,000 (English groups). `quantity`: the text
    says it counts something (money, a percentage), so a long digit string is not a code."""
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+", text) or re.fullmatch(r"\d{1,3}(?:,\d{3}){2,}", text):
        return number_words(int(re.sub(r"[.,]", "", text)))
    if match := re.fullmatch(r"(\d+),(\d+)", text):
        return _decimal(*match.groups())
    if match := re.fullmatch(r"(\d+)\.(\d+)", text):
        return f"{number_words(int(match.group(1)))} chấm {digit_words(match.group(2))}"
    if not quantity and (len(text) > 1 and text.startswith("0") or len(text) >= 7):
        return digit_words(text)  # a code, a leading zero: never a quantity
    return number_words(int(text))


def _month(n: int) -> str:
    return "tư" if n == 4 else number_words(n)


def _valid_date(day: int, month: int) -> bool:
    return 1 <= day <= 31 and 1 <= month <= 12


def _ngay(match: re.Match[str]) -> str:
    # "Ngày 15/10" at a sentence's start keeps its capital.
    return "Ngày" if (match["ngay"] or "").startswith("N") else "ngày"


_NUMBER = r"\d+(?:[.,]\d+)*"
_RULES: list[tuple[re.Pattern[str], object]] = []


def _rule(pattern: str, flags: int = 0):
    def register(function):
        _RULES.append((re.compile(pattern, flags), function))
        return function
    return register


@_rule(r"\b24/7\b")
def _always(match: re.Match[str]) -> str:
    return "hai mươi tư trên bảy"


@_rule(r"(?P<ngay>\bngày\s+)?\b(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{4})\b", re.I)
def _full_date(match: re.Match[str]) -> str:
    day, month, year = int(match["d"]), int(match["m"]), int(match["y"])
    if not _valid_date(day, month):
        return match.group(0).replace("/", " trên ")
    return f"{_ngay(match)} {number_words(day)} tháng {_month(month)} năm {number_words(year)}"


@_rule(r"(?P<thang>\btháng\s+)?\b(?P<m>\d{1,2})/(?P<y>\d{4})\b", re.I)
def _month_year(match: re.Match[str]) -> str:
    month = int(match["m"])
    if not 1 <= month <= 12:
        return match.group(0)
    return f"tháng {_month(month)} năm {number_words(int(match['y']))}"


@_rule(r"(?P<ngay>\bngày\s+)?\b(?P<d>\d{1,2})/(?P<m>\d{1,2})\b(?!/)", re.I)
def _day_month(match: re.Match[str]) -> str:
    day, month = int(match["d"]), int(match["m"])
    if not _valid_date(day, month):
        return f"{number_words(day)} trên {number_words(month)}"
    return f"{_ngay(match)} {number_words(day)} tháng {_month(month)}"


@_rule(r"\b(?:tháng)\s+(?P<m>\d{1,2})\b", re.I)
def _month_alone(match: re.Match[str]) -> str:
    return f"tháng {_month(int(match['m']))}"


@_rule(r"\b(?P<h>[01]?\d|2[0-3])(?::|h|g|\s?giờ\s?)(?P<mi>[0-5]\d)(?:'|p|\s?phút)?(?!\w)", re.I)
def _time(match: re.Match[str]) -> str:
    hours, minutes = int(match["h"]), int(match["mi"])
    return f"{number_words(hours)} giờ" + (f" {number_words(minutes)} phút" if minutes else "")


@_rule(r"\b(?P<h>[01]?\d|2[0-3])h(?!\w)", re.I)
def _hour(match: re.Match[str]) -> str:
    return f"{number_words(int(match['h']))} giờ"


# Mobile and landline numbers (0…, +84…) and hotlines (1800…, 1900…), with or without spaces,
# dots or dashes between groups: read digit by digit, a pause at each group. Groups are taken
# only while the digits still make a phone number, so "0912 345 678 15 người" keeps its 15.
@_rule(r"(?<![\w.,+])(?P<p>(?:\+84|0|1[89]00)\d*(?:[ .-]\d{2,4})*)(?![\w])")
def _phone(match: re.Match[str]) -> str:
    text = match["p"]
    hotline = text.startswith(("1800", "1900"))
    low, high = (8, 10) if hotline else (9, 11)
    parts = re.split(r"([ .-])", text)
    groups, count, used = [], 0, 0
    for index in range(0, len(parts), 2):
        digits = re.sub(r"\D", "", parts[index].replace("+84", "0", 1))
        if count + len(digits) > high:
            break
        groups.append(digits)
        count += len(digits)
        used = index + 1
    if not low <= count <= high:
        return text  # not phone-like: left to the number rules
    if groups[0] == "0" and len(groups) > 1:  # "+84 912…": the country code joins the first group
        groups[:2] = ["0" + groups[1]]
    rest = "".join(parts[used:])
    return ", ".join(digit_words(group) for group in groups) + ("," if rest.strip() else "") + rest


@_rule(r"(?<![\w.,])(?P<n>" + _NUMBER + r")\s?%")
def _percent(match: re.Match[str]) -> str:
    return f"{_amount(match['n'], quantity=True)} phần trăm"


@_rule(r"(?<![\w.,])(?P<n>" + _NUMBER + r")\s?(?:k|K|nghìn|ngàn)(?![\w])")
def _thousands(match: re.Match[str]) -> str:
    value = match["n"]
    if "," in value or re.fullmatch(r"\d+\.\d{1,2}", value):
        return f"{_amount(value.replace('.', ','))} nghìn"
    return f"{_amount(value, quantity=True)} nghìn"


@_rule(r"(?<![\w.,])(?P<n>" + _NUMBER + r")\s?(?:đồng|đ|₫|VNĐ|VND|vnđ)(?![\w])")
def _money(match: re.Match[str]) -> str:
    return f"{_amount(match['n'], quantity=True)} đồng"


@_rule(r"\bthứ\s+(?P<n>[1-8])\b", re.I)
def _ordinal(match: re.Match[str]) -> str:
    n = int(match["n"])
    word = {1: "nhất", 4: "tư"}.get(n, number_words(n))
    return f"{match.group(0).split()[0]} {word}"


@_rule(r"(?<![\w.,])(?P<a>\d+)\s?[-–]\s?(?P<b>\d+)(?![\w.,])")
def _range(match: re.Match[str]) -> str:
    return f"{_amount(match['a'])} đến {_amount(match['b'])}"


@_rule(r"(?<![\w])(?P<n>" + _NUMBER + r")(?![\w])")
def _plain(match: re.Match[str]) -> str:
    text = match["n"]
    trailing = ""
    # A sentence's full stop or a list's comma after a number is punctuation, not a decimal.
    while text and text[-1] in ".,":
        text, trailing = text[:-1], text[-1] + trailing
    if not re.fullmatch(_NUMBER, text or "x"):
        return match.group(0)
    return _amount(text) + trailing


def expand(text: str) -> str:
    """Numbers, dates, times, phone numbers, percentages and abbreviations as Vietnamese words."""
    text = unicodedata.normalize("NFC", text)
    text = _ABBREVIATION.sub(lambda m: ABBREVIATIONS[m.group(1)], text)
    for pattern, function in _RULES:
        text = pattern.sub(function, text)
    return re.sub(r"[ \t]+", " ", text).strip()


# --- Markdown to sentences ---------------------------------------------------------------

_URL = re.compile(r"\b(?:https?://|www\.)([^\s/)]+)[^\s)]*")
_md = MarkdownIt("commonmark")


def _host(match: re.Match[str]) -> str:
    host = match.group(1).removeprefix("www.")
    return " chấm ".join(host.split("."))


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    if text and text[-1] not in ".!?:;…":
        text += "."
    return text


def markdown_text(markdown: str) -> str:
    """The words of a lesson as sentences: headings, paragraphs and list items each end with a
    full stop (a pause); code, images and web addresses' paths are left out; an ordered list's
    numbers are read."""
    sentences: list[str] = []
    numbers: list[int | None] = []
    # A card another plugin shows in the lesson is not part of what is read.
    for token in _md.parse(without_embed_lines(markdown)):
        if token.type == "ordered_list_open":
            numbers.append(int(token.attrGet("start") or 1))
        elif token.type == "bullet_list_open":
            numbers.append(None)
        elif token.type in ("ordered_list_close", "bullet_list_close"):
            numbers.pop()
        elif token.type == "inline":
            words = []
            for child in token.children or []:
                if child.type in ("text", "code_inline"):
                    words.append(child.content)
                elif child.type in ("softbreak", "hardbreak"):
                    words.append(" ")
            text = _URL.sub(_host, "".join(words))
            if numbers and numbers[-1] is not None and token.level >= 2 and _first_in_item(sentences, token):
                text = f"{number_words(numbers[-1]).capitalize()}, {text}"
                numbers[-1] += 1
            if text.strip():
                sentences.append(_sentence(text))
        elif token.type == "list_item_open":
            sentences.append("\x00")  # marks where an item starts
    return " ".join(s for s in sentences if s != "\x00")


def _first_in_item(sentences: list[str], token) -> bool:
    if sentences and sentences[-1] == "\x00":
        sentences.pop()
        return True
    return False


def lesson_text(title: str, markdown: str) -> str:
    """What the machine voice reads for a lesson: its title, then its body, words expanded."""
    return expand(f"{_sentence(title)} {markdown_text(markdown)}")
