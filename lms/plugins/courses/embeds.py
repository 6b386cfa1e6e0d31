"""Cards other plugins put in a lesson: a paragraph of only `[[kind:key]]` in the lesson text
(`[[mo-hinh:tiem-tap-hoa-so]]`) shows the card the plugin owning `kind` gives now (hook
`lesson_embed`), or nothing when it names nothing published."""

import re
from typing import Any

from markupsafe import Markup
from sqlmodel import Session

# As the Markdown renderer leaves such a paragraph; keys are slugs or ids.
EMBED_PARAGRAPH = re.compile(r"<p>\[\[([a-z][a-z0-9-]{0,30}:[A-Za-z0-9-]{1,80})\]\]</p>")
# The same line in the lesson's Markdown (left out of what the machine voice reads).
EMBED_LINE = re.compile(r"^\s*\[\[[a-z][a-z0-9-]{0,30}:[A-Za-z0-9-]{1,80}\]\]\s*$", re.M)


def has_embeds(html: str) -> bool:
    return "[[" in html and EMBED_PARAGRAPH.search(html) is not None


def expand(db: Session, pm: Any, html: str) -> str:
    """The lesson's HTML with each embed paragraph replaced by its card (or removed)."""
    if not has_embeds(html):
        return html

    def card(match: re.Match[str]) -> str:
        for found in pm.hook.lesson_embed(db=db, ref=match.group(1)):
            if isinstance(found, Markup):
                return str(found)
        return ""

    return EMBED_PARAGRAPH.sub(card, html)


def without_embed_lines(markdown: str) -> str:
    return EMBED_LINE.sub("", markdown or "")
