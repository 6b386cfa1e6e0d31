"""The question type contract and the built-in types."""

import secrets
from dataclasses import dataclass
from typing import Any, Protocol


class InvalidAnswer(ValueError):
    """A submitted answer that cannot belong to the question shown; the message is for the learner."""


@dataclass(frozen=True)
class Explained:
    """What the result page says about one question."""

    chosen: str
    correct: str


class QuestionType(Protocol):
    identifier: str
    label: str
    template: str  # renders one question of this type inside the attempt form

    def validate(self, config: dict) -> list[tuple["Where", str]]:
        """Problems with a question from quiz.yaml: (where, Vietnamese message)."""

    def prepare(self, config: dict) -> dict:
        """What one attempt shows (shuffled, with per-attempt keys); stored with the attempt."""

    def parse(self, values: list[str], field: str, form: dict[str, list[str]], shown: dict) -> Any:
        """The learner's answer from the form, or None when unanswered; raises InvalidAnswer."""

    def grade(self, config: dict, answer: Any) -> float:
        """Score from 0 to 1."""

    def explain(self, config: dict, shown: dict, answer: Any) -> Explained:
        """The chosen and the correct answer, in words."""

    # The course editor: each type brings the form fields of its own part of a question.
    editor_template: str  # renders those fields, given `config` (the question so far) and `errors`

    def from_editor(self, form: dict[str, list[str]]) -> dict:
        """This type's part of a question (options, answer, …) from the editor's form;
        `validate` then says what is wrong with it, in the editor as in `lms courses check`.
        A type may also offer `editor_problems(config)`: the same checks in the words of its
        form (not of quiz.yaml), asked first."""


def new_key() -> str:
    # Option values in the form are random per attempt, so neither position nor
    # the ids written in quiz.yaml hint at the answer.
    return secrets.token_hex(4)


def shuffled(items: list[Any]) -> list[Any]:
    copy = list(items)
    secrets.SystemRandom().shuffle(copy)
    return copy


# Where a problem is: None (the question), a field name, or (field, index) for one item.
Where = str | tuple[str, int] | None


def check_items(config: dict, key: str, noun: str) -> tuple[list[str] | None, list[tuple[Where, str]]]:
    """Options or steps: at least two, each with a unique id and a text."""
    items = config.get(key)
    if not isinstance(items, list) or len(items) < 2:
        return None, [(None, f"cần ít nhất 2 {noun} trong “{key}”.")]
    ids: list[str] = []
    problems: list[tuple[Where, str]] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not _text(item.get("id")) or not _text(item.get("text")):
            problems.append(((key, index), f"mỗi {noun} cần có “id” và “text” không rỗng."))
        elif item["id"] in ids:
            problems.append(((key, index), f"mã {noun} “{item['id']}” bị trùng."))
        else:
            ids.append(item["id"])
    return (ids if not problems else None), problems


def points_nowhere(answers: list[str], ids: list[str]) -> tuple[str | None, str]:
    return (None, f"đáp án “{', '.join(answers)}” không trỏ tới lựa chọn nào "
                  f"(các lựa chọn: {', '.join(ids)}).")


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def option_text(config: dict, key: str, option_id: str) -> str:
    return next((o["text"] for o in config.get(key, []) if o["id"] == option_id), "")


def prepare_options(config: dict) -> dict:
    """Options in a new order with new keys, for this attempt only."""
    return {"options": [{"key": new_key(), "id": o["id"], "text": o["text"]}
                        for o in shuffled(config["options"])]}


OPTION_IDS = "abcdefgh"


def items_from_editor(form: dict[str, list[str]], field: str, limit: int = 8) -> list[dict]:
    """Options or steps typed in rows `field-0`, `field-1`, …; empty rows are dropped and the
    rest get ids a, b, c… (options) in the order written."""
    texts = [" ".join((form.get(f"{field}-{i}") or [""])[0].split()) for i in range(limit)]
    return [{"id": OPTION_IDS[n], "text": text} for n, text in enumerate(t for t in texts if t)]


def chosen_rows(form: dict[str, list[str]], field: str, items: list[dict], limit: int = 8) -> list[str]:
    """The ids of the rows ticked as right (`field` holds row numbers), after empty rows are dropped."""
    filled = [i for i in range(limit) if " ".join((form.get(f"options-{i}") or [""])[0].split())]
    ticked = {int(v) for v in form.get(field, []) if v.isdigit()}
    return [items[n]["id"] for n, row in enumerate(filled) if row in ticked and n < len(items)]


def choice_problems(config: dict, *, multiple: bool) -> list[tuple[Where, str]]:
    """What the choice editors say, in the words of their form."""
    problems: list[tuple[Where, str]] = []
    if len(config.get("options") or []) < 2:
        problems.append(("options", "Cần ít nhất 2 lựa chọn."))
    answer = config.get("answer")
    if not answer:
        problems.append((None, "Hãy đánh dấu các lựa chọn đúng." if multiple
                         else "Hãy đánh dấu đúng một lựa chọn đúng."))
    return problems
