"""Whole pages as a visitor without a session sees them, kept per worker until what they were
made from changes.

Most readers of a lesson are visitors: the same page for all of them. A route that shows such
a page calls `keep(request, version_of, version)`: `version_of(db)` returns the version of
what the page was made from (the catalog's, say) and `version` is the one the page was made
at. The guard serves the next visitor from memory after one check of `version_of` — no
routing, no dependencies, no template. A signed-in request, an htmx request, a response that
sets a cookie and a page that carries a CSRF token are never kept, so nothing of one person
reaches another. Only 200 answers are kept.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

VersionOf = Callable[[Session], Any]

STATE_KEY = "visitor_page"
MAX_PAGES = 1000
MAX_BYTES = 256 * 1024  # one page
MAX_TOTAL_BYTES = 16 * 1024 * 1024  # all of a worker's, keys included: made-up query strings cannot grow it past this


@dataclass(frozen=True)
class KeptPage:
    version_of: VersionOf
    version: Any
    route_path: str  # the route's pattern, logged instead of the address
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes


def keep(request: Any, version_of: VersionOf, version: Any) -> None:
    """Let the guard keep this page for visitors while `version_of(db)` still returns `version`."""
    installation = getattr(request.app.state, "installation", None)
    if installation is not None:
        # The header shows the installation's name: a page is made again once the settings change.
        made_at, page_version_of = installation.generation, version_of

        def current(db: Session) -> Any:
            installation.refresh_if_stale()
            return page_version_of(db), installation.generation

        version_of, version = current, (version, made_at)
    setattr(request.state, STATE_KEY, (version_of, version))


class VisitorPages:
    """At most MAX_PAGES pages and MAX_TOTAL_BYTES, the least recently used dropped first; a
    query string is part of the key, so the bounds also cap what made-up query strings take."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pages: OrderedDict[tuple[str, bytes], KeptPage] = OrderedDict()
        self._bytes = 0

    def get(self, key: tuple[str, bytes]) -> KeptPage | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: tuple[str, bytes], page: KeptPage) -> None:
        if _size(key, page) > min(MAX_BYTES, MAX_TOTAL_BYTES):
            return  # refused, rather than emptying the store for it
        with self._lock:
            self._forget(key)
            self._pages[key] = page
            self._bytes += _size(key, page)
            while len(self._pages) > MAX_PAGES or self._bytes > MAX_TOTAL_BYTES:
                self._forget(next(iter(self._pages)))

    def drop(self, key: tuple[str, bytes]) -> None:
        with self._lock:
            self._forget(key)

    def _forget(self, key: tuple[str, bytes]) -> None:
        page = self._pages.pop(key, None)
        if page is not None:
            self._bytes -= _size(key, page)

    @property
    def bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._pages)


def _size(key: tuple[str, bytes], page: KeptPage) -> int:
    return len(key[0]) + len(key[1]) + len(page.body)
