"""Cells for files people open in Excel: formulas never run, Vietnamese survives."""

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A text cell that starts like a formula is shown as text, never evaluated."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def with_bom(text: str) -> bytes:
    # The byte order mark makes Excel open UTF-8 with Vietnamese letters intact.
    return ("\ufeff" + text).encode("utf-8")
