"""The example shipped with the plugin: the tasks of the commune plan for Resolution 57-NQ/TW."""

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

from lms.plugins.ke_hoach.periods import RECURRENCES
from lms.text import nfc

EXAMPLE_FILE = Path(__file__).parent / "example" / "nghi-quyet-57.yaml"
# The bodies the plan gives duties to (§III), in its order: a task's responsible body is one of them.
BODIES = {
    "van-phong": "Văn phòng HĐND và UBND",
    "van-hoa-xa-hoi": "Phòng Văn hóa - Xã hội",
    "trung-tam": "Trung tâm Văn hóa, Thể thao và Truyền thông",
    "kinh-te": "Phòng Kinh tế",
    "cac-thon": "Các thôn",
    "co-quan-lien-quan": "Các cơ quan, đơn vị có liên quan",
}


@dataclass(frozen=True)
class ExampleTask:
    key: str
    section: str
    title: str
    details: str
    body: str
    partners: str
    recurrence: str


@dataclass(frozen=True)
class ExamplePlan:
    key: str
    title: str
    tasks: tuple[ExampleTask, ...]


class ExampleError(ValueError):
    pass


def parse(text: str) -> ExamplePlan:
    """The example file's plan; ExampleError names the first thing wrong with it."""
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or not data.get("key") or not data.get("title"):
        raise ExampleError("the example needs a key and a title")
    tasks, seen = [], set()
    for number, item in enumerate(data.get("tasks") or [], 1):
        if not isinstance(item, dict):
            raise ExampleError(f"task {number} is not a mapping")
        key = str(item.get("key") or "")
        if not key or len(key) > 60 or key in seen:
            raise ExampleError(f"task {number}: a key is missing, too long or used twice")
        seen.add(key)
        body, recurrence = str(item.get("body") or ""), str(item.get("recurrence") or "")
        if body not in BODIES:
            raise ExampleError(f"task {key}: unknown body {body!r}")
        if recurrence and recurrence not in RECURRENCES:
            raise ExampleError(f"task {key}: unknown recurrence {recurrence!r}")
        title, section = nfc(str(item.get("title") or "")).strip(), str(item.get("section") or "").strip()
        if not title or len(title) > 300 or not section or len(section) > 20:
            raise ExampleError(f"task {key}: a title (300 characters at most) and a section are needed")
        partners = nfc(str(item.get("partners") or "")).strip()
        if len(partners) > 300:
            raise ExampleError(f"task {key}: partners longer than 300 characters")
        tasks.append(ExampleTask(key, section, title, nfc(str(item.get("details") or "")).strip(), body,
                                 partners, recurrence))
    if not tasks:
        raise ExampleError("the example has no task")
    return ExamplePlan(str(data["key"]), nfc(str(data["title"])).strip()[:300], tuple(tasks))


@functools.cache
def load() -> ExamplePlan:
    return parse(EXAMPLE_FILE.read_text(encoding="utf-8"))
