"""One right option among several."""

from typing import Any

from lms.plugins.quiz.question_types import (
    Explained,
    InvalidAnswer,
    check_items,
    choice_problems,
    chosen_rows,
    items_from_editor,
    option_text,
    points_nowhere,
    prepare_options,
)


class SingleChoice:
    identifier = "single_choice"
    label = "Chọn một đáp án"
    template = "quiz/types/choice.html"
    editor_template = "quiz/editor/choice.html"
    multiple = False

    def validate(self, config: dict) -> list[tuple[str | None, str]]:
        ids, problems = check_items(config, "options", "lựa chọn")
        answer = config.get("answer")
        if not isinstance(answer, str) or not answer:
            problems.append((None, "“answer” phải là mã của lựa chọn đúng, ví dụ b."))
        elif ids is not None and answer not in ids:
            problems.append(points_nowhere([answer], ids))
        return problems

    def prepare(self, config: dict) -> dict:
        return prepare_options(config)

    def parse(self, values: list[str], field: str, form: dict, shown: dict) -> Any:
        if not values:
            return None
        by_key = {o["key"]: o["id"] for o in shown["options"]}
        if len(values) > 1 or values[0] not in by_key:
            raise InvalidAnswer("Lựa chọn gửi lên không thuộc câu hỏi này.")
        return by_key[values[0]]

    def grade(self, config: dict, answer: Any) -> float:
        return 1.0 if answer == config["answer"] else 0.0

    def explain(self, config: dict, shown: dict, answer: Any) -> Explained:
        return Explained(option_text(config, "options", answer) if answer else "(chưa trả lời)",
                         option_text(config, "options", config["answer"]))

    def from_editor(self, form: dict[str, list[str]]) -> dict:
        options = items_from_editor(form, "options")
        right = chosen_rows(form, "right", options)
        return {"options": options, "answer": right[0] if len(right) == 1 else ""}

    def editor_problems(self, config: dict) -> list[tuple[str | None, str]]:
        return choice_problems(config, multiple=False)
