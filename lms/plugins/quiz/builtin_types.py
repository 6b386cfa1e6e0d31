"""The question types that ship with the quiz plugin."""

from lms.plugins.quiz.question_types.multiple_choice import MultipleChoice
from lms.plugins.quiz.question_types.ordering import Ordering
from lms.plugins.quiz.question_types.single_choice import SingleChoice
from lms.plugins.quiz.question_types.true_false import TrueFalse


def builtin_types() -> list:
    return [SingleChoice(), MultipleChoice(), TrueFalse(), Ordering()]


def types_by_identifier(types: list) -> dict:
    return {t.identifier: t for t in types}
