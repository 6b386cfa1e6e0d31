"""Lesson Markdown to safe HTML: CommonMark, sanitised, images sized and lazy."""

from dataclasses import dataclass
from html import escape

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "h2", "h3", "h4",
    "a", "img", "hr", "table", "thead", "tbody", "tr", "th", "td",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height", "loading", "decoding", "srcset", "sizes"},
    "ol": {"start"},
    "th": {"align"},
    "td": {"align"},
}
WORDS_PER_MINUTE = 150  # unhurried reading on a phone


@dataclass(frozen=True)
class Image:
    url: str
    width: int
    height: int
    # Other widths of an uploaded picture (url 400w, …): phones fetch the one they need.
    srcset: str = ""


def reading_minutes(word_count: int) -> int:
    return max(1, -(-word_count // WORDS_PER_MINUTE))


def render_markdown(source: str, images: dict[str, Image]) -> str:
    """`images` maps a path written in the lesson (assets/x.png) to where it is served."""
    md = MarkdownIt("commonmark", {"html": False}).enable("table")

    def render_image(_renderer, tokens, idx, _options, _env):  # type: ignore[no-untyped-def]
        token = tokens[idx]
        src = token.attrGet("src") or ""
        alt = escape(token.content or "")
        image = images.get(src)
        if image is None:
            return f"<span>[{alt}]</span>"
        widths = (f' srcset="{escape(image.srcset)}" sizes="(max-width: 800px) 100vw, 800px"'
                  if image.srcset else "")
        return (f'<img src="{escape(image.url)}" alt="{alt}" width="{image.width}" '
                f'height="{image.height}"{widths} loading="lazy" decoding="async">')

    md.add_render_rule("image", render_image)
    html = md.render(source)
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto", "tel"},
                     link_rel="noopener noreferrer")


def excerpt(source: str, limit: int = 200) -> str:
    """The first paragraph as plain text, for link previews."""
    for block in source.split("\n\n"):
        text = " ".join(block.split())
        if text and not text.startswith(("#", "!", "-", "1.", "|")):
            plain = nh3.clean(MarkdownIt("commonmark").render(text), tags=set()).strip()
            return plain if len(plain) <= limit else plain[: limit - 1].rsplit(" ", 1)[0] + "…"
    return ""
