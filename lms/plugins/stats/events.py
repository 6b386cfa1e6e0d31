"""Domain events raised by the statistics plugin (for itself: work to do after a commit)."""

from dataclasses import dataclass
from typing import ClassVar

from lms.events import DomainEvent


@dataclass(frozen=True)
class DaysToRecount(DomainEvent):
    """Summed days whose facts changed owner (a merge of two accounts): sum them again."""

    name: ClassVar[str] = "stats.days_to_recount"
    days: tuple[str, ...]  # ISO dates
    user_ids: tuple[int, ...]
