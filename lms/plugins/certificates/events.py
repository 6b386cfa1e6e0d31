"""Domain events raised by the certificates plugin."""

from dataclasses import dataclass
from typing import ClassVar

from lms.events import DomainEvent


@dataclass(frozen=True)
class CertificateIssued(DomainEvent):
    """A certificate was newly issued (on completion, or as a reissue after a name correction)."""

    name: ClassVar[str] = "certificates.issued"
    certificate_id: int
    user_id: int
    course_id: int
