"""Static files under content-hashed names, cached by browsers for a year."""

import functools
import hashlib
import mimetypes
from pathlib import Path

from starlette.responses import FileResponse, PlainTextResponse
from starlette.types import Receive, Scope, Send

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=300"


def _hashed_name(rel: str, digest: str) -> str:
    stem, dot, suffix = rel.rpartition(".")
    if not dot or "/" in suffix:
        return f"{rel}.{digest}"
    return f"{stem}.{digest}.{suffix}"


class HashedStatic:
    """Serves files from several folders; `url(rel)` gives the hashed URL of one."""

    def __init__(self, folders: list[tuple[str, Path]], prefix: str = "/static") -> None:
        self.prefix = prefix
        self._by_rel: dict[str, Path] = {}
        self._hashed: dict[str, str] = {}
        self._by_hashed: dict[str, Path] = {}
        for name, folder in folders:
            if not folder.is_dir():
                continue
            for path in sorted(folder.rglob("*")):
                if not path.is_file() or path.name.startswith("."):
                    continue
                rel = path.relative_to(folder).as_posix()
                if name:
                    rel = f"{name}/{rel}"
                # The first folder given wins, so the site can override a plugin's file.
                if rel in self._by_rel:
                    continue
                digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
                hashed = _hashed_name(rel, digest)
                self._by_rel[rel] = path
                self._hashed[rel] = hashed
                self._by_hashed[hashed] = path

    def url(self, rel: str) -> str:
        hashed = self._hashed.get(rel)
        if hashed is None:
            raise KeyError(f"No static file {rel!r}")
        return f"{self.prefix}/{hashed}"

    def path(self, rel: str) -> Path:
        return self._by_rel[rel]

    @functools.cache  # noqa: B019 - one per app, kept as long as the app
    def data_uri(self, rel: str) -> str:
        """A small file inlined in the page (the favicon): one request fewer on every first visit."""
        from urllib.parse import quote

        media_type = mimetypes.guess_type(rel)[0] or "application/octet-stream"
        return f"data:{media_type},{quote(self._by_rel[rel].read_text(encoding='utf-8'), safe=' /:=#,;')}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        rel = scope["path"][len(self.prefix) :].lstrip("/") if scope["path"].startswith(
            self.prefix
        ) else scope["path"].lstrip("/")
        path = self._by_hashed.get(rel)
        cache = IMMUTABLE
        if path is None:
            path = self._by_rel.get(rel)
            cache = SHORT
        if path is None or scope["method"] not in ("GET", "HEAD"):
            response = PlainTextResponse("Không tìm thấy tệp.", status_code=404)
        else:
            media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            if media_type.startswith("text/") or media_type in ("application/javascript",):
                media_type += "; charset=utf-8"
            response = FileResponse(path, media_type=media_type, headers={"Cache-Control": cache})
        await response(scope, receive, send)
