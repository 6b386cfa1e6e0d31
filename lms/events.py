"""Domain events: small frozen dataclasses with dotted names, delivered through on_event."""

import logging
from dataclasses import dataclass
from typing import Any, ClassVar

log = logging.getLogger("lms.events")


@dataclass(frozen=True)
class DomainEvent:
    """Subclasses set `name` (e.g. "courses.completed") and their own fields."""

    name: ClassVar[str] = ""


def emit(pm: Any, event: DomainEvent) -> None:
    """Deliver an event to every plugin; call after the raising transaction committed."""
    log.debug("event %s", event.name)
    pm.hook.on_event(event=event)
