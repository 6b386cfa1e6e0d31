"""Reading without a network: which pages the service worker may keep, and how pages start it.

A plugin names its pages that hold no personal data (hook `offline_pages`: route paths such as
"/courses/{slug}"). WebGuard marks their answers with `X-Offline-Copy`: "this" when the visitor is
not signed in (the answer itself may be kept), "public" when they are (the service worker fetches
a copy without cookies and keeps that). Any other page is never kept."""

import base64
import hashlib

from markupsafe import Markup

HEADER = b"x-offline-copy"
THIS_ANSWER = b"this"
PUBLIC_COPY = b"public"

# Started after the page has loaded, so the service worker never costs the first visit anything.
REGISTER_SCRIPT = ('if("serviceWorker"in navigator)addEventListener("load",function(){'
                   'navigator.serviceWorker.register("/sw.js").catch(function(){})})')
REGISTER_SCRIPT_HASH = "'sha256-" + base64.b64encode(hashlib.sha256(REGISTER_SCRIPT.encode()).digest()).decode() + "'"


def register_tag() -> Markup:
    """The inline script of every page; the Content-Security-Policy allows exactly it, by hash."""
    return Markup(f"<script>{REGISTER_SCRIPT}</script>")  # noqa: S704 - a constant, no user input
