"""Domain events raised by the events plugin."""

from dataclasses import dataclass
from typing import ClassVar

from lms.events import DomainEvent


@dataclass(frozen=True)
class EventRegistered(DomainEvent):
    """A new registration (not a double tap, nor the same phone registering again)."""

    name: ClassVar[str] = "events.registered"
    registration_id: int
    event_id: int
    user_id: int
    by_helper: bool


@dataclass(frozen=True)
class CheckedIn(DomainEvent):
    """An attendee's first check-in at an event."""

    name: ClassVar[str] = "events.checked_in"
    registration_id: int
    event_id: int
    user_id: int
