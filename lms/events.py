"""Domain events: small frozen dataclasses with dotted names, delivered through on_event."""

import logging
from dataclasses import dataclass
from typing import Any, ClassVar

log = logging.getLogger("lms.events")


@dataclass(frozen=True)
class DomainEvent:
    """Subclasses set `name` (e.g. "courses.completed") and their own fields."""

    name: ClassVar[str] = ""


@dataclass(frozen=True)
class EventContext:
    engine: Any
    pm: Any
    settings: Any


def emit(app_state: Any, event: DomainEvent) -> None:
    """Deliver an event to every plugin; call after the raising transaction committed."""
    log.debug("event %s", event.name)
    context = EventContext(app_state.engine, app_state.pm, app_state.settings)
    app_state.pm.hook.on_event(event=event, context=context)
