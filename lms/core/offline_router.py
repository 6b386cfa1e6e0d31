"""The service worker, the web app manifest and the page shown when there is no network."""

import hashlib
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from lms import security as access
from lms.plugin_host import flatten
from lms.templating import render

router = APIRouter()

WORKBOX = "vendor/workbox-7.4.1"
WORKBOX_MODULES = ("core", "routing", "strategies", "expiration", "cacheable-response", "background-sync")
# Kept when the worker installs, so the offline page and saved lessons have their look and script.
PRECACHED = ("css/site.css", "offline/offline.js")


def _service_worker(request: Request) -> bytes:
    state = request.app.state
    cached = getattr(state, "service_worker", None)
    if cached is None:
        static = state.static.url
        forms = flatten(state.pm.hook.offline_forms())
        context = {"workbox": [static(f"{WORKBOX}/workbox-{m}.prod.js") for m in WORKBOX_MODULES],
                   "precache": [static(rel) for rel in PRECACHED], "stylesheet": static("css/site.css"),
                   "forms": [{"pattern": form.pattern(), "label": form.label} for form in forms]}
        # A new version whenever a file it names changes (their names carry their hashes).
        context["version"] = hashlib.sha256(json.dumps(context).encode()).hexdigest()[:12]
        cached = state.templates.get_template("offline/sw.js").render(context).encode()
        state.service_worker = cached
    return cached


@router.get("/sw.js", dependencies=[access.PUBLIC_ROUTE])
def service_worker(request: Request) -> Any:
    # Browsers look for a new worker on every visit when it is not cached (no-cache).
    return Response(_service_worker(request), media_type="application/javascript; charset=utf-8",
                    headers={"Cache-Control": "no-cache"})


@router.get("/manifest.webmanifest", dependencies=[access.PUBLIC_ROUTE])
def manifest(request: Request) -> Any:
    settings = request.app.state.settings
    data = {
        "name": settings.site_name, "short_name": settings.site_name[:12], "lang": "vi", "dir": "ltr",
        "description": "Học kỹ năng số cơ bản, cả khi không có mạng.",
        "start_url": "/", "scope": "/", "display": "standalone",
        "background_color": "#ffffff", "theme_color": "#0b5394",
        "icons": [{"src": request.app.state.static.url("img/favicon.svg"), "sizes": "any",
                   "type": "image/svg+xml", "purpose": "any"}],
    }
    return Response(json.dumps(data, ensure_ascii=False), media_type="application/manifest+json",
                    headers={"Cache-Control": "public, max-age=3600"})


@router.get("/offline", dependencies=[access.PUBLIC_ROUTE])
def offline_page(request: Request) -> Any:
    return render(request, "offline/offline.html", {})
