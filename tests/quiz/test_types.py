"""Grading of every built-in question type, shuffling included."""

import pytest

from lms.plugins.quiz.builtin_types import builtin_types, types_by_identifier
from lms.plugins.quiz.question_types import InvalidAnswer

TYPES = types_by_identifier(builtin_types())
SINGLE = {"type": "single_choice", "options": [{"id": "a", "text": "156"}, {"id": "b", "text": "113"},
                                                {"id": "c", "text": "115"}], "answer": "a"}
MULTI = {"type": "multiple_choice", "options": [{"id": x, "text": x.upper()} for x in "abcd"],
         "answer": ["a", "c"]}
TRUE_FALSE = {"type": "true_false", "answer": False}
ORDERING = {"type": "ordering", "steps": [{"id": f"s{i}", "text": f"Bước {i}"} for i in range(1, 5)]}


def _key(shown, option_id, items="options"):
    return next(o["key"] for o in shown[items] if o["id"] == option_id)


def test_single_choice_grades_through_the_shuffled_keys():
    kind = TYPES["single_choice"]
    shown = kind.prepare(SINGLE)
    assert sorted(o["id"] for o in shown["options"]) == ["a", "b", "c"]
    right = kind.parse([_key(shown, "a")], "q0", {}, shown)
    wrong = kind.parse([_key(shown, "b")], "q0", {}, shown)
    assert (kind.grade(SINGLE, right), kind.grade(SINGLE, wrong)) == (1.0, 0.0)
    assert kind.explain(SINGLE, shown, wrong).correct == "156"


def test_keys_are_new_for_every_attempt_and_order_varies():
    kind = TYPES["single_choice"]
    shown = [kind.prepare(SINGLE) for _ in range(30)]
    assert len({tuple(o["key"] for o in s["options"]) for s in shown}) == 30
    assert len({tuple(o["id"] for o in s["options"]) for s in shown}) > 1


@pytest.mark.parametrize(("scoring", "chosen", "score"), [
    ("all_or_nothing", ["a", "c"], 1.0),
    ("all_or_nothing", ["a"], 0.0),
    ("all_or_nothing", ["a", "b", "c"], 0.0),
    ("partial", ["a", "c"], 1.0),
    ("partial", ["a"], 0.5),
    ("partial", ["a", "b"], 0.0),       # one right, one wrong
    ("partial", ["a", "c", "d"], 0.5),  # both right, one wrong
    ("partial", ["b", "d"], 0.0),       # never below zero
])
def test_multiple_choice_all_or_nothing_and_partial(scoring, chosen, score):
    kind = TYPES["multiple_choice"]
    config = {**MULTI, "scoring": scoring}
    shown = kind.prepare(config)
    answer = kind.parse([_key(shown, c) for c in chosen], "q0", {}, shown)
    assert kind.grade(config, answer) == score


def test_true_false():
    kind = TYPES["true_false"]
    shown = kind.prepare(TRUE_FALSE)
    assert kind.grade(TRUE_FALSE, kind.parse([shown["false"]], "q0", {}, shown)) == 1.0
    assert kind.grade(TRUE_FALSE, kind.parse([shown["true"]], "q0", {}, shown)) == 0.0
    assert shown["true"] != shown["false"]


def test_ordering_needs_the_exact_order_and_is_never_shown_solved():
    kind = TYPES["ordering"]
    for _ in range(20):
        shown = kind.prepare(ORDERING)
        assert [s["id"] for s in shown["steps"]] != ["s1", "s2", "s3", "s4"]
    form = {f"q0-{_key(shown, f's{i}', 'steps')}": [str(i)] for i in range(1, 5)}
    assert kind.grade(ORDERING, kind.parse([], "q0", form, shown)) == 1.0
    swapped = dict(form)
    swapped[f"q0-{_key(shown, 's1', 'steps')}"] = ["2"]
    swapped[f"q0-{_key(shown, 's2', 'steps')}"] = ["1"]
    answer = kind.parse([], "q0", swapped, shown)
    assert answer == ["s2", "s1", "s3", "s4"] and kind.grade(ORDERING, answer) == 0.0


@pytest.mark.parametrize("positions", [["1", "1", "2", "3"], ["1", "2", "3", "9"], ["1", "2", "x", "3"],
                                       ["1", "2", "3", ""]])
def test_ordering_with_repeated_or_missing_steps_is_refused(positions):
    kind = TYPES["ordering"]
    shown = kind.prepare(ORDERING)
    form = {f"q0-{step['key']}": [p] for step, p in zip(shown["steps"], positions, strict=True)}
    with pytest.raises(InvalidAnswer):
        kind.parse([], "q0", form, shown)


def test_an_option_of_another_question_is_refused():
    kind = TYPES["single_choice"]
    mine, theirs = kind.prepare(SINGLE), kind.prepare(SINGLE)
    with pytest.raises(InvalidAnswer, match="không thuộc câu hỏi này"):
        kind.parse([theirs["options"][0]["key"]], "q0", {}, mine)
    with pytest.raises(InvalidAnswer):
        TYPES["multiple_choice"].parse(["a"], "q0", {}, TYPES["multiple_choice"].prepare(MULTI))


def test_validation_finds_answers_pointing_nowhere():
    assert TYPES["single_choice"].validate({**SINGLE, "answer": "z"})[0][1].startswith("đáp án “z”")
    assert "ít nhất 2 bước" in TYPES["ordering"].validate({"steps": [{"id": "s1", "text": "x"}]})[0][1]
    assert TYPES["true_false"].validate({"answer": "false"})
