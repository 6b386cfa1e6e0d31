"""Several right options; all-or-nothing or partial credit, set per question."""

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

SCORINGS = ("all_or_nothing", "partial")


class MultipleChoice:
    identifier = "multiple_choice"
    label = "Chọn nhiều đáp án"
    template = "quiz/types/choice.html"
    editor_template = "quiz/editor/choice.html"
    multiple = True

    def validate(self, config: dict) -> list[tuple[str | None, str]]:
        ids, problems = check_items(config, "options", "lựa chọn")
        scoring = config.get("scoring", SCORINGS[0])
        if scoring not in SCORINGS:
            problems.append((None, f"cách chấm “{scoring}” không hợp lệ; chỉ được dùng: "
                                        f"{', '.join(SCORINGS)}."))
        answer = config.get("answer")
        if not isinstance(answer, list) or not answer or not all(isinstance(a, str) for a in answer):
            problems.append((None, "“answer” phải là danh sách mã các lựa chọn đúng, ví dụ [a, c]."))
            return problems
        nowhere = [a for a in answer if ids is not None and a not in ids]
        if nowhere:
            problems.append(points_nowhere(nowhere, ids or []))
        elif len(set(answer)) != len(answer):
            problems.append((None, "“answer” có mã lựa chọn bị lặp."))
        return problems

    def prepare(self, config: dict) -> dict:
        return prepare_options(config)

    def parse(self, values: list[str], field: str, form: dict, shown: dict) -> Any:
        if not values:
            return None
        by_key = {o["key"]: o["id"] for o in shown["options"]}
        if any(v not in by_key for v in values) or len(set(values)) != len(values):
            raise InvalidAnswer("Lựa chọn gửi lên không thuộc câu hỏi này.")
        return sorted(by_key[v] for v in values)

    def grade(self, config: dict, answer: Any) -> float:
        chosen, right = set(answer or []), set(config["answer"])
        if config.get("scoring", "all_or_nothing") == "partial":
            # Each right pick earns a share; each wrong pick takes one back.
            return max(0.0, (len(chosen & right) - len(chosen - right)) / len(right))
        return 1.0 if chosen == right else 0.0

    def explain(self, config: dict, shown: dict, answer: Any) -> Explained:
        chosen = "; ".join(option_text(config, "options", a) for a in answer or []) or "(chưa trả lời)"
        return Explained(chosen, "; ".join(option_text(config, "options", a) for a in config["answer"]))

    def from_editor(self, form: dict[str, list[str]]) -> dict:
        options = items_from_editor(form, "options")
        scoring = (form.get("scoring") or [SCORINGS[0]])[0]
        return {"options": options, "answer": chosen_rows(form, "right", options), "scoring": scoring}

    def editor_problems(self, config: dict) -> list[tuple[str | None, str]]:
        return choice_problems(config, multiple=True)
