"""Small helpers for views that read HTML forms."""

from typing import Any
from urllib.parse import urlsplit

from fastapi import Request

MAX_FIELD_CHARS = 5_000


async def read_form(request: Request) -> dict[str, str]:
    """Text fields of the posted form; over-long values are cut (the services then refuse them)."""
    form = await request.form()
    values: dict[str, str] = {}
    for key, value in form.multi_items():
        if isinstance(value, str) and key not in values:
            values[key] = value[:MAX_FIELD_CHARS]
    return values


def checkbox(values: dict[str, Any], name: str) -> bool:
    return values.get(name) in ("on", "1", "true", "yes")


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a path on this site; never an absolute URL (open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
