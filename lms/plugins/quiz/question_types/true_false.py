"""A statement to judge true or false."""

from typing import Any

from lms.plugins.quiz.question_types import Explained, InvalidAnswer, new_key

LABELS = {True: "Đúng", False: "Sai"}


class TrueFalse:
    identifier = "true_false"
    label = "Đúng hay sai"
    template = "quiz/types/true_false.html"
    editor_template = "quiz/editor/true_false.html"

    def validate(self, config: dict) -> list[tuple[str | None, str]]:
        if not isinstance(config.get("answer"), bool):
            return [(None, "“answer” phải là true hoặc false (không đặt trong dấu ngoặc kép).")]
        return []

    def prepare(self, config: dict) -> dict:
        return {"true": new_key(), "false": new_key()}

    def parse(self, values: list[str], field: str, form: dict, shown: dict) -> Any:
        if not values:
            return None
        if len(values) > 1 or values[0] not in (shown["true"], shown["false"]):
            raise InvalidAnswer("Lựa chọn gửi lên không thuộc câu hỏi này.")
        return values[0] == shown["true"]

    def grade(self, config: dict, answer: Any) -> float:
        return 1.0 if answer is config["answer"] else 0.0

    def explain(self, config: dict, shown: dict, answer: Any) -> Explained:
        return Explained(LABELS.get(answer, "(chưa trả lời)"), LABELS[config["answer"]])

    def from_editor(self, form: dict[str, list[str]]) -> dict:
        value = (form.get("truth") or [""])[0]
        return {"answer": {"true": True, "false": False}.get(value)}

    def editor_problems(self, config: dict) -> list[tuple[str | None, str]]:
        return [] if isinstance(config.get("answer"), bool) else [(None, "Hãy chọn câu trên là Đúng hay Sai.")]
