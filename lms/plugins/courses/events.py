"""Domain events raised by the courses plugin."""

from dataclasses import dataclass
from typing import ClassVar

from lms.events import DomainEvent


@dataclass(frozen=True)
class LessonsCompleted(DomainEvent):
    name: ClassVar[str] = "courses.lessons_completed"
    user_id: int
    course_id: int


@dataclass(frozen=True)
class CourseCompleted(DomainEvent):
    name: ClassVar[str] = "courses.completed"
    user_id: int
    course_id: int


@dataclass(frozen=True)
class ContentChanged(DomainEvent):
    """Courses or lessons were published, changed or retired (a pack sync, the editor)."""

    name: ClassVar[str] = "courses.content_changed"
