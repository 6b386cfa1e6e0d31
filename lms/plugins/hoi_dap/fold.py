"""Vietnamese text folded for search: residents type without diacritics ("dang ky vneid"),
so passages and questions are both compared without marks, "đ" read as "d" (SQLite's FTS5
`remove_diacritics` leaves Đ/đ alone), lower case, punctuation as spaces."""

import re
import unicodedata

_MARKS = re.compile(r"[\u0300-\u036f]")
_NOT_WORD = re.compile(r"[^0-9a-z]+")

# Words that carry no subject in a resident's question ("cho tôi hỏi làm sao để …"). Folded.
_FILLER = """
a ah oi nhe nha nhi vay the thi la gi sao nao ai khong ko k hong chua roi duoc dc
toi minh em anh chi ong ba bac chu cau ban xin giup voi vui long lam on ma
nhu nay kia day cua va hay hoac tai vi nen se da nhung cac mot
"""
# Ambiguous once folded ("dang": đang/đăng, "cho": cho/chợ, "dau": đâu/dấu) they stay searched.
FILLER = frozenset(_FILLER.split())


def fold(text: str) -> str:
    """"Đăng ký VNeID mức 2!" → "dang ky vneid muc 2"."""
    decomposed = unicodedata.normalize("NFD", text or "")
    bare = _MARKS.sub("", decomposed).replace("đ", "d").replace("Đ", "D").lower()
    return " ".join(_NOT_WORD.sub(" ", bare).split())


# How residents shorten words when they type (folded), read the same way in passages and
# questions so that "dk tk" meets "đăng ký tài khoản" and "BHYT" meets "bảo hiểm y tế".
SHORT_FORMS = {
    "dk": "dang ky", "dky": "dang ky", "tk": "tai khoan", "mk": "mat khau", "pass": "mat khau",
    "sdt": "so dien thoai", "dt": "dien thoai", "dthoai": "dien thoai", "app": "ung dung",
    "apps": "ung dung", "cccd": "can cuoc cong dan", "cmnd": "chung minh nhan dan can cuoc",
    "bhyt": "bao hiem y te", "bhxh": "bao hiem xa hoi", "tmdt": "thuong mai dien tu",
    "dvc": "dich vu cong", "nh": "ngan hang", "stk": "so tai khoan", "ck": "chuyen khoan",
    "ubnd": "uy ban nhan dan", "gplx": "giay phep lai xe", "sms": "tin nhan",
    "vn": "viet nam", "hd": "huong dan", "ng": "nguoi", "j": "gi", "z": "vay", "r": "roi",
}
_TOKEN = re.compile(r"[^\W_]+")
MARKED = "~"  # the prefix of a term kept as written, marks and all ("~lúa" beside "lua")


def tokens(text: str) -> list[tuple[str, str | None]]:
    """Each syllable folded, with the syllable as written (lower case, NFC) when its marks make
    it another word once folded: "giá lúa" → [("gia", "giá"), ("lua", "lúa")]."""
    out: list[tuple[str, str | None]] = []
    for token in _TOKEN.findall(unicodedata.normalize("NFC", text or "").lower()):
        folded = fold(token).split()
        if len(folded) == 1 and folded[0] in SHORT_FORMS:
            out += [(word, None) for word in SHORT_FORMS[folded[0]].split()]
        elif len(folded) == 1:
            out.append((folded[0], token if token != folded[0] else None))
        else:  # a letter that folds to two words or none (rare signs): the folded words alone
            out += [(word, None) for word in folded]
    return out
