"""Read course packs from disk and check them against the format in courses/README.md."""

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lms.checks import Problem
from lms.core.services import AUDIENCES

DOMAINS = {
    "khai-thac-du-lieu": "Khai thác dữ liệu và thông tin",
    "giao-tiep-hop-tac": "Giao tiếp và hợp tác",
    "sang-tao-noi-dung": "Sáng tạo nội dung số",
    "an-toan": "An toàn",
    "giai-quyet-van-de": "Giải quyết vấn đề",
    "ung-dung-ai": "Ứng dụng trí tuệ nhân tạo",
}
MAX_IMAGE_BYTES = 150 * 1024
# README recommends 250–600 words; only nonsense is refused, so a 3-minute guide still passes.
MIN_LESSON_WORDS = 80
MAX_LESSON_WORDS = 1200
SOURCES_TITLE = "Nguồn tham khảo"
SOURCES_HEADING = f"## {SOURCES_TITLE}"
# Decision 757/QĐ-BKHCN: the groups its basic digital skills are written for.
COMPETENCE_GROUPS = ("nguoi-dan", "can-bo", "doanh-nghiep", "hoc-sinh")
# What Decision 757/QĐ-BKHCN calls its target groups and the skills the sources name
# (../shared/curriculum-2.md, K): a code without a name here is shown as written.
COMPETENCE_LABELS = {
    "757:nguoi-dan": "Người dân",
    "757:can-bo": "Cán bộ, công chức, viên chức",
    "757:doanh-nghiep": "Người lao động trong doanh nghiệp",
    "757:hoc-sinh": "Học sinh, sinh viên",
    "757:nguoi-dan:0.1": "Người dân · 0.1 Sử dụng thiết bị",
    "757:nguoi-dan:0.2": "Người dân · 0.2 Sử dụng phần mềm trên thiết bị",
}
_DEFAULT_PASS_MARK = 80
_DEFAULT_COOLDOWN_MINUTES = 0
_REQUIRED_COURSE_KEYS = ("slug", "title", "audiences", "summary", "estimated_minutes", "version", "lessons")

_SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)")
_WORD = re.compile(r"\w")
_TEXT_SUFFIXES = {".md", ".yaml", ".yml"}
_COMPETENCE = re.compile(r"^757:(?P<group>[^:]*)(?::(?P<skill>.*))?$")
_SKILL = re.compile(r"^[0-9]+\.[0-9]+$")
_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t#]*$")
_LIST_ITEM = re.compile(r"^ {0,3}(?:[-*+]|[0-9]{1,9}[.)])[ \t]+\S")
_FENCE = re.compile(r"^ {0,3}(?:```|~~~)")
# Headings a writer means as the sources section but spells differently.
_SOURCES_NEAR_MISSES = {"nguồn tham khảo", "nguồn", "nguồn tài liệu", "tài liệu tham khảo", "tham khảo"}


@dataclass(frozen=True)
class LessonSpec:
    slug: str
    title: str
    position: int
    path: Path
    body_md: str
    word_count: int
    competences: tuple[str, ...] = ()  # Decision 757/QĐ-BKHCN codes, as written in course.yaml


@dataclass(frozen=True)
class QuizSpec:
    path: Path
    pass_mark: int
    cooldown_minutes: int
    questions: list[dict]


@dataclass(frozen=True)
class CoursePack:
    slug: str
    title: str
    audiences: list[str]
    summary: str
    estimated_minutes: int
    version: int
    domains: list[str]
    prerequisites: list[str]
    lessons: list[LessonSpec]
    quiz: QuizSpec | None
    folder: Path
    assets: dict[str, Path]
    content_hash: str
    cover: str | None = None  # the name of an image in assets/ shown on the course's card


# --- YAML that remembers line numbers ----------------------------------------


class _Map(dict):
    """A YAML mapping that knows the line it starts on and the line of each key."""

    line = 1
    key_lines: dict[str, int]  # set by the loader

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class _Seq(list):
    """A YAML sequence that knows the line it starts on and the line of each item."""

    line = 1
    item_lines: list[int]  # set by the loader

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


class _LineLoader(yaml.SafeLoader):
    """SafeLoader whose mappings and sequences carry 1-based line numbers."""


class _DuplicateKey(yaml.constructor.ConstructorError):
    """PyYAML keeps the last of two equal keys without a word; a pack must not lose text so."""

    def __init__(self, key: str, first_line: int, mark: yaml.Mark) -> None:
        super().__init__(None, None, f"found duplicate key {key!r}", mark)
        self.key, self.first_line = key, first_line


def _construct_map(loader: _LineLoader, node: yaml.MappingNode):
    data = _Map()
    data.line = node.start_mark.line + 1
    data.key_lines = {}
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
            continue
        if key.value in data.key_lines:
            raise _DuplicateKey(key.value, data.key_lines[key.value], key.start_mark)
        data.key_lines[key.value] = key.start_mark.line + 1
    yield data  # yielded first so that recursive structures resolve, as PyYAML does
    data.update(loader.construct_mapping(node))


def _construct_seq(loader: _LineLoader, node: yaml.SequenceNode):
    data = _Seq()
    data.line = node.start_mark.line + 1
    data.item_lines = [item.start_mark.line + 1 for item in node.value]
    yield data
    data.extend(loader.construct_sequence(node))


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def _plain(value: Any) -> Any:
    """The same data with ordinary dicts and lists, for code outside this module."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


# --- Small helpers ------------------------------------------------------------


@dataclass
class _Report:
    """Collects problems for one file."""

    problems: list[Problem]
    path: Path

    def add(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, message))


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _is_int(value: Any) -> bool:
    # YAML `true` is a bool, and bool is an int in Python: refuse it.
    return isinstance(value, int) and not isinstance(value, bool)


def _first_non_nfc_line(text: str) -> int | None:
    if unicodedata.is_normalized("NFC", text):
        return None
    for number, line in enumerate(text.splitlines(), 1):
        if not unicodedata.is_normalized("NFC", line):
            return number
    return 1


def _word_count(markdown: str) -> int:
    """Words a reader sees: space-separated pieces holding a letter or digit (not `##` or `-`)."""
    return sum(1 for piece in markdown.split() if _WORD.search(piece))


# --- Reading files ------------------------------------------------------------


def _read_texts(folder: Path, problems: list[Problem]) -> dict[Path, str]:
    """Every Markdown and YAML file of the pack, decoded; reports non-UTF-8 and non-NFC text."""
    texts: dict[Path, str] = {}
    for path in sorted(folder.rglob("*")):
        if path.suffix not in _TEXT_SUFFIXES or not path.is_file():
            continue
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            problems.append(Problem(path, line, "Tệp không phải UTF-8; hãy lưu lại với bảng mã UTF-8."))
            continue
        texts[path] = text
        line = _first_non_nfc_line(text)
        if line is not None:
            problems.append(Problem(path, line, (
                "Văn bản chưa chuẩn hóa Unicode NFC (dấu tiếng Việt bị tách khỏi chữ); "
                "hãy lưu lại ở dạng Unicode dựng sẵn (NFC).")))
    return texts


_QUOTE_HINT = "hãy đặt cả giá trị trong dấu ngoặc kép, ví dụ title: \"…\""


def _explain_yaml(exc: yaml.YAMLError) -> tuple[yaml.Mark | None, str]:
    """Where a PyYAML error is and what it means, in plain Vietnamese with a hint."""
    problem = getattr(exc, "problem", None) or ""
    context = getattr(exc, "context", None) or ""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    opened = getattr(exc, "context_mark", None)
    opened_at = f" (mở ở dòng {opened.line + 1})" if opened is not None else ""
    found = re.search(r"found (?:character )?'(.*?)'", problem)
    char = found.group(1) if found else ""
    if isinstance(exc, yaml.reader.ReaderError):
        return None, (f"có ký tự điều khiển không nhìn thấy được (mã U+{exc.character:04X}), thường do dán từ "
                      "Word hoặc PDF; hãy xóa ký tự đó")
    if isinstance(exc, _DuplicateKey):
        return mark, (f"mục “{exc.key}” được ghi hai lần (lần đầu ở dòng {exc.first_line}); "
                      "YAML chỉ giữ lần sau, hãy xóa một lần")
    if problem == "mapping values are not allowed here":
        return mark, ("dấu hai chấm “:” ở chỗ này không hợp lệ; có thể thiếu dấu ngoặc kép quanh một câu "
                      "có dấu hai chấm (viết title: \"Bước 1: mở ứng dụng\"), hoặc dòng này thụt lề sâu "
                      "hơn dòng trên, hoặc dòng trên thiếu dấu hai chấm sau tên mục")
    if problem == "could not find expected ':'":
        # The scanner notices on the next line; the key that lacks its colon is where it started.
        return opened or mark, ("thiếu dấu hai chấm “:” sau tên mục (mỗi dòng viết dạng tên: giá trị), "
                                "hoặc một câu dài bị xuống dòng mà không nằm trong dấu ngoặc kép")
    # PyYAML names the character with repr(), so a tab reads as the two characters \t.
    if "tab character" in problem or (problem.startswith("found character") and char == "\\t"):
        return mark, "có ký tự Tab; YAML chỉ dùng dấu cách để thụt lề, hãy thay Tab bằng dấu cách"
    if problem.startswith("found character") and "cannot start any token" in problem:
        return mark, f"giá trị không được bắt đầu bằng ký tự “{char}”; {_QUOTE_HINT}"
    if problem.startswith("expected <block end>"):
        if "'<scalar>'" in problem:
            return mark, ("có chữ thừa sau giá trị, thường là chữ nằm sau dấu ngoặc kép đóng; nếu câu có "
                          "dấu ngoặc kép bên trong, hãy dùng ngoặc kép “ ” hoặc bọc cả câu bằng dấu nháy đơn '…'; "
                          "cũng có thể một dấu ngoặc kép ở dòng trên chưa được đóng")
        return mark, ("thụt lề không khớp: dòng này không thẳng hàng với các mục cùng cấp ở trên "
                      "(các mục cùng cấp phải bắt đầu ở cùng một cột, chỉ thụt lề bằng dấu cách)")
    if problem in ("found unexpected end of stream", "found unexpected document separator"):
        return opened or mark, ("dấu ngoặc kép (hoặc nháy đơn) mở ở đây chưa được đóng; "
                                "hãy thêm dấu đóng ở cuối câu")
    if problem.startswith("expected ',' or ']'"):
        return mark, (f"danh sách trong ngoặc vuông […]{opened_at} viết chưa đúng: thiếu dấu phẩy giữa các mục "
                      "hoặc thiếu dấu “]” đóng; mục có dấu phẩy hay dấu hai chấm phải nằm trong dấu ngoặc kép")
    if problem.startswith("expected ',' or '}'"):
        return mark, (f"bảng trong ngoặc nhọn {{…}}{opened_at} viết chưa đúng: thiếu dấu phẩy hoặc thiếu dấu “}}” "
                      "đóng; chữ có dấu hai chấm, dấu phẩy hay dấu ngoặc kép bên trong phải đặt trong dấu "
                      "ngoặc kép, ví dụ {id: a, text: \"Chọn: có\"}")
    if "escape" in problem:
        return mark, ("trong dấu ngoặc kép, dấu gạch chéo ngược “\\” phải viết thành “\\\\”; "
                      "hoặc bọc câu bằng dấu nháy đơn '…' thay cho ngoặc kép")
    if "alias" in problem or "anchor" in context or "alias" in context or "anchor" in problem:
        return mark, f"giá trị bắt đầu bằng “*” hoặc “&” bị YAML hiểu là tham chiếu; {_QUOTE_HINT}"
    if "tag" in problem or "tag" in context:
        return mark, f"giá trị bắt đầu bằng “!” bị YAML hiểu là nhãn kiểu dữ liệu; {_QUOTE_HINT}"
    if "block scalar" in context:
        return mark, ("sau “>-”, “>” hoặc “|” phải xuống dòng ngay; đoạn văn viết từ dòng sau, "
                      "thụt lề vào so với tên mục")
    if "single document" in context or "document start" in problem:
        return mark, "tệp chỉ được chứa một tài liệu YAML; hãy xóa dòng “---” này hoặc phần phía sau nó"
    if problem.startswith("expected the node content"):
        return mark, (f"thiếu giá trị ở chỗ này, hoặc có ký tự “{char}” thừa; "
                      f"nếu giá trị bắt đầu bằng dấu ngoặc hay dấu phẩy, {_QUOTE_HINT}")
    if problem == "sequence entries are not allowed here":
        return mark, ("gạch đầu dòng “-” phải ở đầu một dòng mới, thụt lề dưới tên mục; "
                      f"nếu “-” là một phần của câu, {_QUOTE_HINT}")
    if problem == "mapping keys are not allowed here":
        return mark, f"dấu “?” ở chỗ này không hợp lệ; nếu nó là một phần của câu, {_QUOTE_HINT}"
    if "unhashable" in problem:
        return mark, "tên mục phải là chữ, không được là danh sách […] hay bảng {…}"
    return mark, ("YAML viết chưa đúng ở chỗ này; hãy kiểm tra thụt lề, dấu hai chấm và dấu ngoặc kép "
                  f"(chi tiết kỹ thuật: {problem or context or type(exc).__name__})")


def _yaml_error(path: Path, text: str, exc: yaml.YAMLError) -> Problem:
    mark, explanation = _explain_yaml(exc)
    if mark is not None:
        line, column = mark.line + 1, mark.column + 1
    elif isinstance(exc, yaml.reader.ReaderError):
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
    else:
        line, column = 1, 1
    return Problem(path, line, f"Lỗi cú pháp YAML ở dòng {line}, cột {column}: {explanation}.")


def _parse_mapping(path: Path, texts: dict[Path, str], problems: list[Problem]) -> _Map | None:
    text = texts.get(path)
    if text is None:  # unreadable: already reported by _read_texts
        return None
    try:
        loader = _LineLoader(text)  # the reader refuses control characters already here
    except yaml.YAMLError as exc:
        problems.append(_yaml_error(path, text, exc))
        return None
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        problems.append(_yaml_error(path, text, exc))
        return None
    finally:
        loader.dispose()
    if not isinstance(data, _Map):
        problems.append(Problem(path, getattr(data, "line", 1), (
            f"{path.name} phải là một bảng “khóa: giá trị” ở cấp ngoài cùng.")))
        return None
    return data


# --- course.yaml ----------------------------------------------------------------


def _text_field(data: _Map, key: str, report: _Report) -> str | None:
    if key not in data:
        return None  # reported as missing
    if not _is_text(data[key]):
        report.add(data.line_of(key), f"“{key}” phải là một đoạn chữ không rỗng.")
        return None
    return data[key]


def _positive_int_field(data: _Map, key: str, report: _Report) -> int | None:
    if key not in data:
        return None
    value = data[key]
    if not _is_int(value) or value < 1:
        report.add(data.line_of(key), f"“{key}” phải là số nguyên dương (ví dụ 35), không phải “{value}”.")
        return None
    return value


def _check_slug(data: _Map, folder: Path, report: _Report) -> str | None:
    if "slug" not in data:
        return None
    slug, line = data["slug"], data.line_of("slug")
    if not isinstance(slug, str) or not _SLUG.match(slug):
        report.add(line, (
            f"Mã khóa học “{slug}” không hợp lệ: chỉ dùng chữ thường không dấu, chữ số và dấu gạch ngang "
            "(ví dụ vneid-va-dich-vu-cong)."))
        return None
    if slug != folder.name:
        report.add(line, f"Mã khóa học “{slug}” phải trùng với tên thư mục “{folder.name}”.")
    return slug


def _choice_list(
    data: _Map, key: str, allowed: dict[str, str], noun: str, report: _Report,
) -> list[str] | None:
    """A list whose items all come from `allowed`; audiences must have at least one item."""
    required = key in _REQUIRED_COURSE_KEYS
    if key not in data:
        return None if required else []
    value = data[key]
    if not isinstance(value, list) or (required and not value):
        at_least = "có ít nhất một mục" if required else "(có thể rỗng: [])"
        example = next(iter(allowed))
        report.add(data.line_of(key), f"“{key}” phải là một danh sách {at_least}, ví dụ [{example}].")
        return None
    ok = True
    for index, item in enumerate(value):
        if not isinstance(item, str) or item not in allowed:
            choices = ", ".join(allowed)
            report.add(value.line_of(index), f"{noun} “{item}” không hợp lệ; chỉ được chọn: {choices}.")
            ok = False
    return list(value) if ok else None


def _prerequisite_list(data: _Map, report: _Report) -> list[tuple[str, int]] | None:
    """Prerequisite slugs with their lines; whether they exist is checked once every pack is read."""
    value = data.get("prerequisites", [])
    if not isinstance(value, list):
        report.add(data.line_of("prerequisites"), "“prerequisites” phải là danh sách mã khóa học, ví dụ [].")
        return None
    result = []
    for index, item in enumerate(value):
        if not isinstance(item, str) or not _SLUG.match(item):
            report.add(value.line_of(index), f"Khóa học tiên quyết “{item}” không phải mã khóa học hợp lệ.")
            return None
        result.append((item, value.line_of(index)))
    return result


def _course_fields(data: _Map, folder: Path, report: _Report) -> dict[str, Any]:
    for key in _REQUIRED_COURSE_KEYS:
        if key not in data:
            report.add(data.line, f"course.yaml thiếu mục bắt buộc “{key}”.")
    return {
        "slug": _check_slug(data, folder, report),
        "title": _text_field(data, "title", report),
        "audiences": _choice_list(data, "audiences", AUDIENCES, "Đối tượng", report),
        "summary": _text_field(data, "summary", report),
        "estimated_minutes": _positive_int_field(data, "estimated_minutes", report),
        "version": _positive_int_field(data, "version", report),
        "domains": _choice_list(data, "domains", DOMAINS, "Lĩnh vực năng lực số", report),
        "prerequisites": _prerequisite_list(data, report),
    }


def _cover(data: _Map, assets: dict[str, Path], report: _Report) -> str | None:
    """`cover: assets/name.png`, optional: a picture of the pack shown on the course's card."""
    value = data.get("cover")
    if value is None:
        return None
    name = value.removeprefix("assets/") if isinstance(value, str) else ""
    if not name or name == value or "/" in name:
        report.add(data.line_of("cover"), "“cover” là ảnh bìa trong thư mục assets/, ví dụ cover: assets/bia.png.")
        return None
    if name not in assets:
        report.add(data.line_of("cover"), f"Không tìm thấy ảnh bìa “{value}”: thư mục assets/ không có tệp “{name}”.")
        return None
    return name


@dataclass(frozen=True)
class _Entry:
    """One well-formed lesson entry of course.yaml."""

    slug: str
    title: str
    line: int
    competences: tuple[str, ...]


_COMPETENCE_FORM = (
    "viết dạng 757:<nhóm> hoặc 757:<nhóm>:<kỹ năng> theo Quyết định 757/QĐ-BKHCN, "
    "ví dụ \"757:nguoi-dan:0.2\" hoặc \"757:can-bo\"")


def _competence_problem(code: Any) -> str | None:
    if not isinstance(code, str):
        return f"Mã năng lực “{code}” phải là chữ trong dấu ngoặc kép; {_COMPETENCE_FORM}."
    match = _COMPETENCE.match(code)
    if match is None:
        return f"Mã năng lực “{code}” không hợp lệ: {_COMPETENCE_FORM}."
    if match["group"] not in COMPETENCE_GROUPS:
        return (f"Mã năng lực “{code}”: nhóm “{match['group']}” không có trong Quyết định 757/QĐ-BKHCN; "
                f"chỉ được chọn: {', '.join(COMPETENCE_GROUPS)}.")
    if match["skill"] is not None and not _SKILL.match(match["skill"]):
        return (f"Mã năng lực “{code}”: kỹ năng “{match['skill']}” phải là hai số cách nhau bằng dấu chấm, "
                "ví dụ 0.2 hoặc 1.3.")
    return None


def _competences(entry: _Map, report: _Report) -> tuple[str, ...]:
    """The valid codes of a lesson entry's optional `competences` list; reports the others."""
    if "competences" not in entry:
        return ()
    codes = entry["competences"]
    if not isinstance(codes, _Seq):
        report.add(entry.line_of("competences"), (
            "“competences” phải là danh sách mã năng lực, ví dụ [\"757:nguoi-dan:0.2\", \"757:can-bo\"]."))
        return ()
    kept: list[str] = []
    for index, code in enumerate(codes):
        problem = _competence_problem(code)
        if problem is None and code in kept:
            problem = f"Mã năng lực “{code}” bị lặp trong cùng một bài học."
        if problem is not None:
            report.add(codes.line_of(index), problem)
        else:
            kept.append(code)
    return tuple(kept)


def _lesson_entries(data: _Map, report: _Report) -> list[_Entry]:
    """Each well-formed lesson entry, in course.yaml order."""
    lessons = data.get("lessons")
    if lessons is None:
        return []
    if not isinstance(lessons, list) or not lessons:
        report.add(data.line_of("lessons"), "“lessons” phải là danh sách có ít nhất một bài học.")
        return []
    entries: list[_Entry] = []
    first_line: dict[str, int] = {}
    for index, entry in enumerate(lessons):
        line = lessons.line_of(index)
        if not isinstance(entry, dict) or not _is_text(entry.get("slug")) or not _is_text(entry.get("title")):
            report.add(line, "Mỗi bài học cần có cả “slug” và “title”, ví dụ {slug: vneid-la-gi, title: …}.")
            continue
        slug = entry["slug"]
        if not _SLUG.match(slug):
            # The slug names a file: anything but [a-z0-9-] could point outside the pack.
            report.add(line, f"Mã bài học “{slug}” không hợp lệ: chỉ dùng chữ thường không dấu, số và “-”.")
        elif slug in first_line:
            report.add(line, f"Mã bài học “{slug}” bị trùng (đã dùng ở dòng {first_line[slug]}).")
        else:
            first_line[slug] = line
            entries.append(_Entry(slug, entry["title"], line, _competences(entry, report)))
    return entries


# --- Lessons and assets -------------------------------------------------------


def _load_assets(folder: Path, problems: list[Problem]) -> dict[str, Path]:
    assets_dir = folder / "assets"
    if not assets_dir.is_dir():
        return {}
    assets: dict[str, Path] = {}
    for path in sorted(assets_dir.iterdir()):
        if path.name.startswith("."):  # .DS_Store and the like
            continue
        if not path.is_file():
            problems.append(Problem(path, 1, "Thư mục assets/ chỉ chứa tệp ảnh, không chứa thư mục con."))
            continue
        size = path.stat().st_size
        if size > MAX_IMAGE_BYTES:
            problems.append(Problem(path, 1, (
                f"Ảnh quá lớn: {size // 1024} KB, tối đa {MAX_IMAGE_BYTES // 1024} KB; "
                "hãy nén hoặc thu nhỏ ảnh (người học thường dùng mạng di động).")))
        assets[path.name] = path
    return assets


def _check_lesson_body(path: Path, body: str, assets: dict[str, Path], problems: list[Problem]) -> None:
    lines = body.splitlines()
    first = next(((n, line) for n, line in enumerate(lines, 1) if line.strip()), None)
    if first is None:
        problems.append(Problem(path, 1, "Bài học chưa có nội dung."))
        return
    number, line = first
    if line.startswith("# ") or line.strip() == "#":
        problems.append(Problem(path, number, (
            "Bài học không được mở đầu bằng tiêu đề “# …”: tiêu đề đã có trong course.yaml; "
            "hãy bắt đầu bằng nội dung, dùng “##” cho các mục.")))
    for number, line in enumerate(lines, 1):
        for match in _IMAGE.finditer(line):
            _check_image(path, number, match.group(1), assets, problems)
    _check_length(path, _word_count(body), problems)
    _check_sources(path, lines, problems)


def _check_length(path: Path, words: int, problems: list[Problem]) -> None:
    if words < MIN_LESSON_WORDS:
        problems.append(Problem(path, 1, (
            f"Bài học quá ngắn: {words} từ, cần ít nhất {MIN_LESSON_WORDS} từ (nên viết 250–600 từ); "
            "có thể tệp bị cắt mất hoặc mới là bản nháp.")))
    elif words > MAX_LESSON_WORDS:
        problems.append(Problem(path, 1, (
            f"Bài học quá dài: {words} từ, tối đa {MAX_LESSON_WORDS} từ (nên viết 250–600 từ); "
            "hãy tách thành hai bài.")))


def _headings(lines: list[str]) -> list[tuple[int, int, str]]:
    """(line, level, text) of each ATX heading outside fenced code."""
    headings, fenced = [], False
    for number, line in enumerate(lines, 1):
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and (match := _HEADING.match(line)):
            headings.append((number, len(match.group(1)), match.group(2) or ""))
    return headings


def _check_sources(path: Path, lines: list[str], problems: list[Problem]) -> None:
    """The lesson ends with `## Nguồn tham khảo` listing at least one source."""
    headings = _headings(lines)
    exact = [h for h in headings if h[1] == 2 and h[2] == SOURCES_TITLE]
    if not exact:
        near = next((h for h in headings
                     if " ".join(h[2].rstrip(" :.").split()).casefold() in _SOURCES_NEAR_MISSES), None)
        if near is not None:
            problems.append(Problem(path, near[0], (
                f"Tiêu đề mục nguồn phải viết đúng là “{SOURCES_HEADING}” (hai dấu #, không có dấu hai chấm), "
                f"không phải “{lines[near[0] - 1].strip()}”.")))
        else:
            problems.append(Problem(path, len(lines), (
                f"Bài học thiếu mục “{SOURCES_HEADING}” ở cuối bài: hãy thêm mục này và liệt kê nguồn "
                "(văn bản pháp luật có số và ngày, hoặc trang chính thức), mỗi nguồn một dòng “- …”.")))
        return
    start = exact[-1][0]
    after = [h for h in headings if h[0] > start and h[1] <= 2]
    end = after[0][0] if after else len(lines) + 1
    if not any(_LIST_ITEM.match(line) for line in lines[start:end - 1]):
        problems.append(Problem(path, start, (
            f"Mục “{SOURCES_HEADING}” chưa có nguồn nào: hãy liệt kê mỗi nguồn trên một dòng "
            "bắt đầu bằng “- ” (văn bản pháp luật có số và ngày, hoặc trang chính thức).")))
    for number, _, text in after:
        problems.append(Problem(path, number, (
            f"Mục “{SOURCES_HEADING}” phải là mục cuối của bài, nhưng sau nó còn mục “{text}”; "
            "hãy chuyển mục này lên trước.")))


def _check_image(
    path: Path, line: int, target: str, assets: dict[str, Path], problems: list[Problem],
) -> None:
    name = target.removeprefix("assets/")
    if name == target or "/" in name:
        problems.append(Problem(path, line, (
            f"Ảnh “{target}” phải nằm trong thư mục assets/ của gói và được ghi dạng assets/tên-tệp.png.")))
    elif name not in assets:
        problems.append(Problem(path, line, (
            f"Không tìm thấy ảnh “{target}”: thư mục assets/ không có tệp “{name}”.")))


def _load_lessons(
    folder: Path, entries: list[_Entry], texts: dict[Path, str], assets: dict[str, Path], report: _Report,
) -> list[LessonSpec]:
    lessons = []
    for position, entry in enumerate(entries, 1):
        path = folder / f"{entry.slug}.md"
        if path not in texts:
            if not path.is_file():  # an unreadable file was reported already
                report.add(entry.line, f"Không tìm thấy tệp bài học “{entry.slug}.md” bên cạnh course.yaml.")
            continue
        body = texts[path]
        _check_lesson_body(path, body, assets, report.problems)
        lessons.append(LessonSpec(entry.slug, entry.title, position, path, body, _word_count(body),
                                  entry.competences))
    return lessons


# --- quiz.yaml ------------------------------------------------------------------


def _bounded_int(
    data: _Map, key: str, default: int, low: int, high: int | None, hint: str, report: _Report,
) -> int:
    value = data.get(key, default)
    if not _is_int(value) or value < low or (high is not None and value > high):
        report.add(data.line_of(key), f"“{key}” phải là {hint}, không phải “{value}”.")
        return default
    return value


def _check_question(
    question: Any, line: int, lessons: list[str], first_line: dict[str, int], report: _Report,
    question_types: Mapping[str, Any] | None,
) -> None:
    if not isinstance(question, _Map):
        report.add(line, "Mỗi câu hỏi phải là một bảng “khóa: giá trị” (id, type, lesson, prompt, …).")
        return
    qid = question.get("id")
    who = f"Câu hỏi “{qid}”" if _is_text(qid) else "Câu hỏi"
    if not _is_text(qid):
        report.add(line, "Câu hỏi thiếu “id” (mã câu hỏi, ví dụ q1).")
    elif qid in first_line:
        report.add(line, f"Mã câu hỏi “{qid}” bị trùng với câu ở dòng {first_line[qid]}.")
    else:
        first_line[qid] = line
    for key, what in (("prompt", "nội dung câu hỏi"), ("explanation", "lời giải thích đáp án")):
        if not _is_text(question.get(key)):
            report.add(line, f"{who}: thiếu “{key}” ({what}).")
    lesson = question.get("lesson")
    if not isinstance(lesson, str) or lesson not in lessons:
        choices = ", ".join(lessons)
        report.add(line, f"{who}: bài học “{lesson}” không có trong khóa này; chọn một trong: {choices}.")
    if question_types is None:
        return  # no quiz plugin installed: nothing knows the types
    kind = question.get("type")
    question_type = question_types.get(kind) if isinstance(kind, str) else None
    if question_type is None:
        choices = ", ".join(sorted(question_types))
        report.add(line, f"{who}: loại câu hỏi “{kind}” không hợp lệ; chỉ được dùng: {choices}.")
        return
    # Each type checks its own fields; "answer" problems belong to the whole question.
    for where, message in question_type.validate(_plain(question)):
        report.add(_question_line(question, where), f"{who}: {message}")


def _question_line(question: _Map, where: Any) -> int:
    """A type says where a problem is: None, a field, or (field, index) of one item."""
    if isinstance(where, tuple):
        items = question.get(where[0])
        return items.line_of(where[1]) if isinstance(items, _Seq) else question.line_of(where[0])
    if isinstance(where, str) and where != "answer":
        return question.line_of(where)
    return question.line


def _check_coverage(questions: _Seq, lessons: list[str], line: int, report: _Report) -> None:
    """Every lesson has a question: the quiz is what says a learner took the lesson in."""
    covered = {question.get("lesson") for question in questions
               if isinstance(question, dict) and isinstance(question.get("lesson"), str)}
    for slug in lessons:
        if slug not in covered:
            report.add(line, (
                f"Chưa có câu hỏi nào cho bài học “{slug}”: hãy thêm ít nhất một câu có “lesson: {slug}”."))


def _load_quiz(
    path: Path, texts: dict[Path, str], lessons: list[str], problems: list[Problem],
    question_types: Mapping[str, Any] | None,
) -> QuizSpec | None:
    if not path.is_file():
        return None  # a course without a quiz is allowed
    data = _parse_mapping(path, texts, problems)
    if data is None:
        return None
    report = _Report(problems, path)
    before = len(problems)
    pass_mark = _bounded_int(data, "pass_mark", _DEFAULT_PASS_MARK, 1, 100, "số nguyên từ 1 đến 100", report)
    cooldown = _bounded_int(data, "cooldown_minutes", _DEFAULT_COOLDOWN_MINUTES, 0, None,
                            "số nguyên không âm (0 nếu không phải chờ)", report)
    questions = data.get("questions")
    if not isinstance(questions, list) or not questions:
        report.add(data.line_of("questions"), "quiz.yaml cần mục “questions” có ít nhất một câu hỏi.")
        return None
    first_line: dict[str, int] = {}
    for index, question in enumerate(questions):
        _check_question(question, questions.line_of(index), lessons, first_line, report,
                        question_types)
    _check_coverage(questions, lessons, data.line_of("questions"), report)
    if len(problems) > before:
        return None
    return QuizSpec(path, pass_mark, cooldown, _plain(questions))


# --- One pack, then all of them -------------------------------------------------


RENDER_VERSION = 2


def _content_hash(
    folder: Path, lessons: list[LessonSpec], quiz: QuizSpec | None, assets: dict[str, Path],
) -> str:
    # course.yaml goes in whole, so a lesson's competences are part of the hash too.
    files = [folder / "course.yaml", *(lesson.path for lesson in lessons)]
    if quiz is not None:
        files.append(quiz.path)
    files += [assets[name] for name in sorted(assets)]
    # The renderer's version goes in too: a new one (section anchors) renders every lesson again.
    digest = hashlib.sha256(f"render:{RENDER_VERSION}\0".encode())
    for path in files:
        data = path.read_bytes()
        # Name and length go in too, so moving text from one file to the next changes the hash.
        digest.update(f"{path.relative_to(folder).as_posix()}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


@dataclass
class _Draft:
    """One folder as read so far; `pack` is set only when the folder itself has no problem."""

    folder: Path
    slug: str | None = None
    slug_line: int = 1
    prerequisites: list[tuple[str, int]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    pack: CoursePack | None = None

    @property
    def course_path(self) -> Path:
        return self.folder / "course.yaml"


def _load_pack(folder: Path, question_types: Mapping[str, Any] | None) -> _Draft:
    draft = _Draft(folder)
    problems = draft.problems
    texts = _read_texts(folder, problems)
    data = _parse_mapping(draft.course_path, texts, problems)
    if data is None:
        return draft
    report = _Report(problems, draft.course_path)
    fields = _course_fields(data, folder, report)
    draft.slug, draft.slug_line = fields["slug"], data.line_of("slug")
    draft.prerequisites = fields["prerequisites"] or []
    entries = _lesson_entries(data, report)
    assets = _load_assets(folder, problems)
    fields["cover"] = _cover(data, assets, report)
    lessons = _load_lessons(folder, entries, texts, assets, report)
    quiz = _load_quiz(folder / "quiz.yaml", texts, [entry.slug for entry in entries], problems,
                      question_types)
    if not problems:
        fields["prerequisites"] = [slug for slug, _ in draft.prerequisites]
        draft.pack = CoursePack(**fields, lessons=lessons, quiz=quiz, folder=folder, assets=assets,
                                content_hash=_content_hash(folder, lessons, quiz, assets))
    return draft


def _pack_folders(directory: Path, problems: list[Problem]) -> list[Path]:
    if not directory.is_dir():
        problems.append(Problem(directory, 1, "Không tìm thấy thư mục chứa các gói khóa học."))
        return []
    return sorted(child for child in directory.iterdir() if (child / "course.yaml").is_file())


def _check_duplicate_slugs(drafts: list[_Draft]) -> dict[str, _Draft]:
    """Reports every later pack reusing a slug; returns the first pack for each slug."""
    first: dict[str, _Draft] = {}
    for draft in drafts:
        if draft.slug is None:
            continue
        if draft.slug in first:
            draft.problems.append(Problem(draft.course_path, draft.slug_line, (
                f"Mã khóa học “{draft.slug}” đã được dùng ở {first[draft.slug].course_path}.")))
        else:
            first[draft.slug] = draft
    return first


def _find_cycle(start: str, known: dict[str, _Draft]) -> list[str] | None:
    """A path of prerequisites leading from `start` back to itself, if there is one."""
    stack = [(start, [start])]
    seen: set[str] = set()
    while stack:
        slug, path = stack.pop()
        for prerequisite, _ in known[slug].prerequisites if slug in known else []:
            if prerequisite == start and len(path) > 1:
                return [*path, start]
            if prerequisite not in seen and prerequisite != start:
                seen.add(prerequisite)
                stack.append((prerequisite, [*path, prerequisite]))
    return None


def _check_prerequisites(drafts: list[_Draft], known: dict[str, _Draft]) -> None:
    for draft in drafts:
        for slug, line in draft.prerequisites:
            if slug == draft.slug:
                draft.problems.append(Problem(draft.course_path, line, (
                    f"Khóa học “{slug}” không thể là khóa học tiên quyết của chính nó.")))
            elif slug not in known:
                draft.problems.append(Problem(draft.course_path, line, (
                    f"Khóa học tiên quyết “{slug}” không tồn tại trong các gói khóa học.")))
        cycle = _find_cycle(draft.slug, known) if draft.slug is not None else None
        if cycle:
            draft.problems.append(Problem(draft.course_path, draft.slug_line, (
                f"Các khóa học tiên quyết tạo thành vòng lặp: {' → '.join(cycle)}.")))


def _drop_packs_needing_broken_ones(drafts: list[_Draft], known: dict[str, _Draft]) -> None:
    """A pack whose prerequisite is left out is left out too, so what is loaded stays consistent."""
    changed = True
    while changed:
        changed = False
        for draft in drafts:
            if draft.problems:
                continue
            broken = [(slug, line) for slug, line in draft.prerequisites if known[slug].problems]
            for slug, line in broken[:1]:
                draft.problems.append(Problem(draft.course_path, line, (
                    f"Khóa học tiên quyết “{slug}” đang có lỗi nên khóa này cũng chưa được nạp; "
                    f"hãy sửa {known[slug].course_path} trước.")))
                changed = True


def load_packs(
    dirs: list[Path], question_types: Mapping[str, Any] | None = None,
) -> tuple[list[CoursePack], list[Problem]]:
    """Every sub-folder holding a course.yaml, in each dir (sorted by name); returns the packs
    without any problem, and every problem found (sorted by path then line).

    `question_types` (identifier → type with `validate(config)`) comes from the quiz
    plugin's hook; without it quiz questions get only the checks common to all types."""
    problems: list[Problem] = []
    drafts = [_load_pack(folder, question_types)
              for directory in dirs for folder in _pack_folders(directory, problems)]
    known = _check_duplicate_slugs(drafts)
    _check_prerequisites(drafts, known)
    _drop_packs_needing_broken_ones(drafts, known)
    packs = [draft.pack for draft in drafts if draft.pack is not None and not draft.problems]
    problems += [problem for draft in drafts for problem in draft.problems]
    problems.sort(key=lambda problem: (str(problem.path), problem.line, problem.message))
    return packs, problems
