"""The FAQ pack: reviewed question/answer pairs in YAML, one file per topic (see faq/README.md).
Loading checks every entry and reports problems in Vietnamese with their file and line; an
entry with a problem is not loaded, the others are."""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from lms.checks import Problem

PACK_DIR = Path(__file__).parent / "faq"
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
LESSON_PATH = re.compile(r"/courses/[a-z0-9-]+/[a-z0-9-]+")
MIN_WORDS, MAX_WORDS = 25, 220


@dataclass(frozen=True)
class Source:
    title: str
    url: str


@dataclass(frozen=True)
class FaqEntry:
    slug: str
    topic: str
    topic_title: str
    question: str
    also_asked: tuple[str, ...]
    answer: str  # Markdown
    sources: tuple[Source, ...]
    see_also: tuple[str, ...]
    reviewed: date


class _Lines(yaml.SafeLoader):
    """Keeps each mapping's line (1-based) under the key "__line__"; refuses a key written twice."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[Any] = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"khóa “{key}” viết hai lần", key_node.start_mark)
            seen.add(key)
        mapping = super().construct_mapping(node, deep=True)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping


_Lines.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _Lines.construct_mapping)


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _nfc_problem(value: Any) -> bool:
    if isinstance(value, str):
        return not unicodedata.is_normalized("NFC", value)
    if isinstance(value, dict):
        return any(_nfc_problem(v) for v in value.values())
    if isinstance(value, list):
        return any(_nfc_problem(v) for v in value)
    return False


def _entry(raw: Any, topic: str, topic_title: str, path: Path, problems: list[Problem],
           known_lessons: set[str] | None) -> FaqEntry | None:
    line = raw.get("__line__", 1) if isinstance(raw, dict) else 1
    found: list[str] = []
    if not isinstance(raw, dict):
        problems.append(Problem(path, line, "Mỗi mục phải là một bảng (slug, question, answer, …)."))
        return None
    slug = _text(raw.get("slug"))
    if slug is None or not SLUG.fullmatch(slug):
        found.append("“slug” phải là chữ thường không dấu, số và dấu gạch ngang, ví dụ vneid-quen-mat-khau")
    question, answer = _text(raw.get("question")), _text(raw.get("answer"))
    if question is None:
        found.append("thiếu “question” (câu hỏi)")
    if answer is None:
        found.append("thiếu “answer” (câu trả lời)")
    elif not MIN_WORDS <= len(answer.split()) <= MAX_WORDS:
        found.append(f"câu trả lời có {len(answer.split())} từ; cần từ {MIN_WORDS} đến {MAX_WORDS} từ")
    also = raw.get("also_asked") or []
    if not isinstance(also, list) or not all(_text(a) for a in also):
        found.append("“also_asked” phải là danh sách các câu hỏi")
        also = []
    sources = raw.get("sources")
    parsed: list[Source] = []
    if not isinstance(sources, list) or not sources:
        found.append("cần ít nhất một nguồn trong “sources” (title, url)")
    else:
        for source in sources:
            title = _text(source.get("title")) if isinstance(source, dict) else None
            url = _text(source.get("url")) if isinstance(source, dict) else None
            if title is None or url is None or not url.startswith("https://"):
                found.append("mỗi nguồn cần “title” và “url” bắt đầu bằng https://")
                break
            parsed.append(Source(title, url))
    see_also = raw.get("see_also") or []
    if not isinstance(see_also, list) or not all(isinstance(p, str) and LESSON_PATH.fullmatch(p) for p in see_also):
        found.append("“see_also” phải là danh sách đường dẫn bài học /courses/<khóa>/<bài>")
        see_also = []
    elif known_lessons is not None:
        found += [f"bài học {p} không có" for p in see_also if p not in known_lessons]
    reviewed = raw.get("reviewed")
    if not isinstance(reviewed, date):
        found.append("“reviewed” phải là ngày kiểm tra lại câu trả lời, dạng 2026-12-03")
    if _nfc_problem({k: v for k, v in raw.items() if k != "__line__"}):
        found.append("văn bản chưa chuẩn hóa Unicode NFC (gõ lại dấu bằng bộ gõ Unicode dựng sẵn)")
    if found:
        problems.extend(Problem(path, line, f"Mục “{slug or '?'}”: {message}.") for message in found)
        return None
    return FaqEntry(slug, topic, topic_title, question, tuple(a.strip() for a in also), answer, tuple(parsed),
                    tuple(see_also), reviewed)


def load_pack(directory: Path = PACK_DIR, *, known_lessons: set[str] | None = None
              ) -> tuple[list[FaqEntry], list[Problem]]:
    """Every entry of every `<topic>.yaml` in the folder, and every problem found."""
    entries: list[FaqEntry] = []
    problems: list[Problem] = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            data = yaml.load(path.read_text("utf-8"), Loader=_Lines)  # noqa: S506 - a SafeLoader subclass
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            line = mark.line + 1 if mark else 1
            problems.append(Problem(path, line, f"Lỗi cú pháp YAML ở dòng {line}: {getattr(exc, 'problem', exc)}."))
            continue
        if not isinstance(data, dict):
            problems.append(Problem(path, 1, "Tệp phải có “topic”, “title” và “entries”."))
            continue
        topic, title = _text(data.get("topic")), _text(data.get("title"))
        if topic != path.stem:
            problems.append(Problem(path, data.get("__line__", 1), f"“topic” phải là “{path.stem}”, như tên tệp."))
            continue
        if title is None or not isinstance(data.get("entries"), list):
            problems.append(Problem(path, data.get("__line__", 1), "Tệp phải có “title” và danh sách “entries”."))
            continue
        for raw in data["entries"]:
            entry = _entry(raw, topic, title, path, problems, known_lessons)
            if entry is not None:
                entries.append(entry)
    seen: dict[str, FaqEntry] = {}
    unique = []
    for entry in entries:
        if entry.slug in seen:
            problems.append(Problem(directory / f"{entry.topic}.yaml", 1,
                                    f"Mục “{entry.slug}” trùng mã với một mục của chủ đề “{seen[entry.slug].topic}”."))
            continue
        seen[entry.slug] = entry
        unique.append(entry)
    problems.sort(key=lambda p: (str(p.path), p.line))
    return unique, problems
