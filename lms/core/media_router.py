"""Serving stored media: /media/<key>.<ext>, immutable, with ETag and single byte ranges."""

import logging
import re
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse
from sqlmodel import Session

from lms import security as access
from lms.db import get_session
from lms.errors import NotFound
from lms.media import CONTENT_TYPES, MediaInfo, media_store

log = logging.getLogger("lms.media")

router = APIRouter()

_NAME = re.compile(r"([0-9a-f]{64})\.([a-z0-9]{2,5})")
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
IMMUTABLE = "public, max-age=31536000, immutable"
# A file opened on its own (not in a page) runs nothing, whatever a browser makes of it.
MEDIA_CSP = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox"


class Unsatisfiable(Exception):
    pass


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The single range [start, stop) a Range header asks for, or None for the whole file.

    A header this server does not take (other units, several ranges, a malformed one) is
    ignored, as RFC 9110 allows; a well-formed range past the end raises Unsatisfiable."""
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip().replace(" ", ""))
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise Unsatisfiable()
        return max(0, size - suffix), size
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        raise Unsatisfiable()
    stop = min(int(last) + 1, size) if last else size
    return start, stop


def _tags(header: str) -> list[str]:
    return [tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()]


def etag_matches(header: str | None, etag: str) -> bool:
    """If-None-Match: weak comparison, as RFC 9110 asks for it."""
    if not header:
        return False
    tags = _tags(header)
    return "*" in tags or etag in tags


def _range_applies(if_range: str | None, etag: str) -> bool:
    # Content under a key never changes, so a date always names the current bytes.
    if not if_range:
        return True
    value = if_range.strip()
    if value.startswith(('"', "W/")):
        return value == etag  # strong comparison
    return True


@router.api_route("/media/{name}", methods=["GET", "HEAD"], dependencies=[access.PUBLIC_ROUTE],
                  include_in_schema=False)
def media_file(request: Request, name: str, db: Session = Depends(get_session)) -> Any:
    match = _NAME.fullmatch(name)
    store = media_store(request.app.state.settings)
    info = store.stat(db, match.group(1)) if match else None
    if info is None or CONTENT_TYPES.get(info.content_type) != match.group(2):
        raise NotFound()
    etag = f'"{info.key}"'
    headers = {"ETag": etag, "Cache-Control": IMMUTABLE, "Accept-Ranges": "bytes",
               "Content-Security-Policy": MEDIA_CSP}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    span = None
    if _range_applies(request.headers.get("if-range"), etag):
        try:
            span = byte_range(request.headers.get("range"), info.size)
        except Unsatisfiable:
            return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{info.size}"})
    start, stop = span or (0, info.size)
    status = 206 if span else 200
    if span:
        headers["Content-Range"] = f"bytes {start}-{stop - 1}/{info.size}"
    headers["Content-Length"] = str(stop - start)
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type=info.content_type)
    return _body(db, store, info, start, stop, status, headers)


def _body(db: Session, store: Any, info: MediaInfo, start: int, stop: int, status: int,
          headers: dict[str, str]) -> Any:
    try:
        chunks = store.read(db, info, start, stop)
    except FileNotFoundError:
        # The row is there but not the file: a shared folder not mounted on this host.
        log.error("media file missing from the folder (key %s…)", info.key[:12])
        raise NotFound() from None
    if info.in_database:
        return Response(b"".join(chunks), status_code=status, headers=headers, media_type=info.content_type)
    return StreamingResponse(chunks, status_code=status, headers=headers, media_type=info.content_type)
