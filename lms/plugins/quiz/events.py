"""Domain events raised by the quiz plugin."""

from dataclasses import dataclass
from typing import ClassVar

from lms.events import DomainEvent


@dataclass(frozen=True)
class QuizPassed(DomainEvent):
    name: ClassVar[str] = "quiz.passed"
    user_id: int
    course_id: int
    attempt_id: int
    score: float
