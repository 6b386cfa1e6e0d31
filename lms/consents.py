"""Consent by purpose (Law 91/2025/QH15): what a plugin declares through the `consent_purposes`
hook, and the event raised whenever a person gives, refuses or withdraws one.

Consent is a ledger: every decision is a row (core_consent) with its text version, how it was
given (the person, a helper, staff) and whether it was granted. A person's current choice for a
purpose is their latest row. Withdrawing one purpose stops only the processing that purpose
covers: the plugin that declared it listens to `core.consent_changed` and stops it."""

from dataclasses import dataclass, field
from typing import ClassVar

from lms.events import DomainEvent


@dataclass(frozen=True)
class ConsentPurpose:
    """One purpose a person can agree to.

    `texts` keeps every version ever shown (a record must always say what was agreed to) and
    `current` names the one shown now. `stops` tells the person, before they withdraw, what
    withdrawing stops. `required`: no account without it (withdrawing means asking for erasure).
    `ask_when_joining`: asked, unticked, on every form that creates an account. `assumed_before`:
    text versions of an older, combined consent that covered this purpose too, so a person who
    agreed to one of them has not been asked separately and is taken as having agreed.
    `notifies`: the declaring plugin acts on `core.consent_changed` for this purpose; it is raised
    when processing must stop (a refusal or withdrawal) or start again (given after one), not
    for a first agreement, which changes nothing anywhere."""

    key: str
    label: str
    texts: dict[str, str]
    current: str
    stops: str
    required: bool = False
    ask_when_joining: bool = False
    assumed_before: tuple[str, ...] = ()
    order: int = 50
    notifies: bool = True

    @property
    def text(self) -> str:
        return self.texts[self.current]


@dataclass(frozen=True)
class ConsentChanged(DomainEvent):
    """A person gave (`granted`) or refused/withdrew a consent purpose."""

    name: ClassVar[str] = "core.consent_changed"
    user_id: int
    purpose: str
    granted: bool
    extra: dict = field(default_factory=dict)
