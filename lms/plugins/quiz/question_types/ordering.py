"""Put the steps in order ("sắp xếp các bước"): each step gets its position number."""

from typing import Any

from lms.plugins.quiz.question_types import Explained, InvalidAnswer, check_items, items_from_editor, new_key, shuffled


class Ordering:
    identifier = "ordering"
    label = "Sắp xếp các bước"
    template = "quiz/types/ordering.html"
    editor_template = "quiz/editor/ordering.html"

    def validate(self, config: dict) -> list[tuple[str | None, str]]:
        return check_items(config, "steps", "bước")[1]

    def prepare(self, config: dict) -> dict:
        steps = config["steps"]
        order = shuffled(steps)
        # Never show the steps already in the right order.
        while len(steps) > 1 and [s["id"] for s in order] == [s["id"] for s in steps]:
            order = shuffled(steps)
        return {"steps": [{"key": new_key(), "id": s["id"], "text": s["text"]} for s in order]}

    def parse(self, values: list[str], field: str, form: dict, shown: dict) -> Any:
        steps = shown["steps"]
        positions: dict[str, int] = {}
        for step in steps:
            raw = form.get(f"{field}-{step['key']}", [])
            if not raw or raw[0] == "":
                continue
            if len(raw) > 1 or not raw[0].isdigit() or not 1 <= int(raw[0]) <= len(steps):
                raise InvalidAnswer("Thứ tự gửi lên không hợp lệ.")
            positions[step["id"]] = int(raw[0])
        if not positions:
            return None
        if len(positions) < len(steps):
            raise InvalidAnswer("Hãy đánh số thứ tự cho tất cả các bước.")
        if sorted(positions.values()) != list(range(1, len(steps) + 1)):
            raise InvalidAnswer("Mỗi số thứ tự chỉ dùng cho một bước, từ 1 đến "
                                f"{len(steps)}.")
        return sorted(positions, key=positions.__getitem__)

    def grade(self, config: dict, answer: Any) -> float:
        return 1.0 if answer == [s["id"] for s in config["steps"]] else 0.0

    def explain(self, config: dict, shown: dict, answer: Any) -> Explained:
        text = {s["id"]: s["text"] for s in config["steps"]}
        chosen = " → ".join(text.get(a, "") for a in answer) if answer else "(chưa trả lời)"
        return Explained(chosen, " → ".join(s["text"] for s in config["steps"]))



    def from_editor(self, form: dict[str, list[str]]) -> dict:
        steps = items_from_editor(form, "steps")
        return {"steps": [{"id": f"s{n}", "text": step["text"]} for n, step in enumerate(steps, 1)]}

    def editor_problems(self, config: dict) -> list[tuple[str | None, str]]:
        return [] if len(config.get("steps") or []) >= 2 else [("steps", "Cần ít nhất 2 bước.")]
