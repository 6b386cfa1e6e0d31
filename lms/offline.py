"""Reading without a network: which pages the service worker may keep, and how pages start it.

A plugin names its pages that hold no personal data (hook `offline_pages`: route paths such as
"/courses/{slug}"). WebGuard marks their answers with `X-Offline-Copy`: "this" when the visitor is
not signed in (the answer itself may be kept), "public" when they are (the service worker fetches
a copy without cookies and keeps that). Any other page is never kept.

A plugin also names forms that may be sent later (hook `offline_forms`, `OfflineForm`): posted
with no network, the service worker keeps the request in IndexedDB, shows "Chờ gửi (n)" and
sends it when the network is back; a refusal (an expired form) is kept with the form the server
sent back, for the person to confirm."""

import base64
import hashlib
import re
from dataclasses import dataclass

from markupsafe import Markup

HEADER = b"x-offline-copy"
THIS_ANSWER = b"this"
PUBLIC_COPY = b"public"

# Started after the page has loaded, so the service worker never costs the first visit anything.
# It then asks the worker to send what waits, and shows "Chờ gửi (n)" in the header while any does.
REGISTER_SCRIPT = (
    'if("serviceWorker"in navigator)addEventListener("load",function(){var w=navigator.serviceWorker;'
    'w.register("/sw.js").catch(function(){});'
    'function ask(){if(w.controller)w.controller.postMessage("gui-lai")}'
    'w.addEventListener("message",function(e){var d=e.data||{},n=(d.waiting||0)+(d.confirm||0),'
    'a=document.getElementById("dang-cho");if(!n){if(a)a.remove();return}'
    'if(!a){a=document.createElement("a");a.id="dang-cho";a.href="/offline#cho-gui";a.className="waiting";'
    'document.querySelector("header.site .wrap").appendChild(a)}'
    'a.textContent=d.confirm?"Cần xác nhận ("+d.confirm+")":"Chờ gửi ("+n+")"});'
    'ask();addEventListener("online",ask)})')
def script_hash(script: str) -> str:
    """The Content-Security-Policy source that allows exactly this inline script."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


REGISTER_SCRIPT_HASH = script_hash(REGISTER_SCRIPT)


def register_tag() -> Markup:
    """The inline script of every page; the Content-Security-Policy allows exactly it, by hash."""
    return Markup(f"<script>{REGISTER_SCRIPT}</script>")  # noqa: S704 - a constant, no user input


@dataclass(frozen=True)
class OfflineForm:
    """A form (its route path, as declared) the phone may keep and send later, and what the
    person is told is waiting ("Đăng ký sự kiện")."""

    path: str
    label: str

    def pattern(self) -> str:
        """A JavaScript regular expression for the paths it takes."""
        parts = re.split(r"(\{[^}]+\})", self.path)
        return "^" + "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts) + "$"
