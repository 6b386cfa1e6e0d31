"""What plugins report for a person's data rights (Law 91/2025/QH15): the hooks
`personal_data_export` and `personal_data_erase` (the Moodle Privacy API is the model).

Every plugin reports each of its tables that holds a person's data, even when that person has
no rows there, so a test can prove that no such table is forgotten."""

from dataclasses import dataclass, field
from typing import Any

ERASED_NAME = "Đã xoá theo yêu cầu"


@dataclass(frozen=True)
class DataSection:
    """Rows of one table about the person, as they would read them (Vietnamese labels)."""

    table: str
    label: str
    rows: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class ErasureNote:
    """What erasure did to one table: "deleted", "anonymised" or "kept", and for anything kept
    the legal basis, in Vietnamese, that the person's receipt shows."""

    table: str
    action: str
    count: int
    basis: str = ""


def as_rows(items: Any, columns: dict[str, str]) -> list[dict[str, Any]]:
    """Rows for a DataSection: {Vietnamese label: value} from each item's attributes; times in
    Vietnam time (ISO 8601)."""
    from datetime import datetime

    from lms.templating import local

    def plain(value: Any) -> Any:
        if isinstance(value, datetime):
            return local(value).isoformat(timespec="seconds")
        return value

    return [{label: plain(getattr(item, name)) for label, name in columns.items()} for item in items]
