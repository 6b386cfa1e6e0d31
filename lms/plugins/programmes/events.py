"""Domain events raised by the programmes plugin."""

from dataclasses import dataclass
from typing import ClassVar

from lms.events import DomainEvent


@dataclass(frozen=True)
class LevelReached(DomainEvent):
    """A learner completed every course of their audience's basic digital-skills level."""

    name: ClassVar[str] = "programmes.level_reached"
    user_id: int
    audience: str
