"""A test plugin adding a question type: type a number (e.g. a hotline)."""

from typing import Any

from lms.hookspecs import hookimpl
from lms.plugin_host import PluginMeta
from lms.plugins.quiz.question_types import Explained, InvalidAnswer

meta = PluginMeta(name="number_type", label="Câu hỏi nhập số", requires=["quiz"])


class NumberAnswer:
    identifier = "number"
    label = "Nhập một số"
    template = "number_type/number.html"
    editor_template = "number_type/number_editor.html"

    def validate(self, config: dict) -> list[tuple[Any, str]]:
        if not isinstance(config.get("answer"), int):
            return [(None, "“answer” phải là một số nguyên.")]
        return []

    def prepare(self, config: dict) -> dict:
        return {}

    def parse(self, values: list[str], field: str, form: dict, shown: dict) -> Any:
        if not values or not values[0].strip():
            return None
        if not values[0].strip().isdigit():
            raise InvalidAnswer("Hãy nhập một số.")
        return int(values[0])

    def grade(self, config: dict, answer: Any) -> float:
        return 1.0 if answer == config["answer"] else 0.0

    def explain(self, config: dict, shown: dict, answer: Any) -> Explained:
        return Explained(str(answer), str(config["answer"]))

    def from_editor(self, form: dict[str, list[str]]) -> dict:
        raw = (form.get("number") or [""])[0].strip()
        return {"answer": int(raw) if raw.isdigit() else raw}


@hookimpl
def question_types() -> list[Any]:
    return [NumberAnswer()]


@hookimpl
def template_dirs() -> list[Any]:
    from pathlib import Path

    return [Path(__file__).parent / "number_type_templates"]
