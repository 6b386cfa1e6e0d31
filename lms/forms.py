"""Small helpers for views that read HTML forms.

Forms are read by async dependencies (`form_values`, `form_lists`, `form_data`), so the
handlers themselves stay plain `def`: FastAPI runs them in its thread pool, and their
database work never blocks the event loop."""

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Path, Request
from starlette.datastructures import FormData

MAX_FIELD_CHARS = 5_000
# The largest id an INTEGER column holds (PostgreSQL's is 32-bit): a larger one in a path
# names nothing (404), rather than an "integer out of range" from the database.
MAX_ID = 2**31 - 1

ObjectId = Annotated[int, Path(ge=1, le=MAX_ID)]


async def read_form(request: Request) -> dict[str, str]:
    """Text fields of the posted form; over-long values are cut (the services then refuse them)."""
    form = await request.form()
    values: dict[str, str] = {}
    for key, value in form.multi_items():
        if isinstance(value, str) and key not in values:
            values[key] = value[:MAX_FIELD_CHARS]
    return values


async def read_form_lists(request: Request) -> dict[str, list[str]]:
    """Every text value of the posted form by field name (checkbox groups, quiz answers)."""
    form = await request.form()
    values: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            values.setdefault(key, []).append(value[:MAX_FIELD_CHARS])
    return values


async def read_form_data(request: Request) -> FormData:
    """The posted form as it is, uploads included (read them with `.file.read()`)."""
    return await request.form()


FormValues = Annotated[dict[str, str], Depends(read_form)]
FormLists = Annotated[dict[str, list[str]], Depends(read_form_lists)]
FormFields = Annotated[FormData, Depends(read_form_data)]


def takes_uploads(endpoint: Any) -> Any:
    """Mark a page that receives files: its request body may reach the media upload cap
    (LMS_MEDIA_MAX_UPLOAD_BYTES) instead of LMS_MAX_BODY_BYTES."""
    endpoint.lms_takes_uploads = True
    return endpoint


def posted_id(raw: Any) -> int | None:
    """A row id typed in a form or a query; anything else, or one past what a column holds, names nothing."""
    text = str(raw or "")
    return int(text) if text.isascii() and text.isdigit() and len(text) < 11 and 1 <= int(text) <= MAX_ID else None


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
