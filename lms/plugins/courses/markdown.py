"""Lesson Markdown to safe HTML: CommonMark, sanitised, images sized and lazy, sections
addressable (`#<anchor>` on every h2 and h3)."""

import re
import unicodedata
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
    "h2": {"id"},
    "h3": {"id"},
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


def heading_anchor(heading: str) -> str:
    """"Các bước kích hoạt" → "cac-buoc-kich-hoat": what a link to the section ends with."""
    bare = re.sub(r"[\u0300-\u036f]", "", unicodedata.normalize("NFD", heading)).replace("đ", "d").replace("Đ", "D")
    return re.sub(r"[^0-9a-z]+", "-", bare.lower()).strip("-") or "muc"


def _unique(anchor: str, taken: set[str]) -> str:
    candidate, number = anchor, 2
    while candidate in taken:
        candidate, number = f"{anchor}-{number}", number + 1
    taken.add(candidate)
    return candidate


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

    taken: set[str] = set()

    def render_heading(renderer, tokens, idx, options, env):  # type: ignore[no-untyped-def]
        token = tokens[idx]
        if token.tag in ("h2", "h3") and idx + 1 < len(tokens):
            token.attrSet("id", _unique(heading_anchor(tokens[idx + 1].content), taken))
        return renderer.renderToken(tokens, idx, options, env)

    md.add_render_rule("image", render_image)
    md.add_render_rule("heading_open", render_heading)
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


@dataclass(frozen=True)
class Section:
    anchor: str  # "" for the text before the first heading
    heading: str
    text: str  # plain text, for search and snippets


def sections(source: str) -> list[Section]:
    """The lesson cut at its h2 and h3 headings, anchors as render_markdown makes them."""
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = md.parse(source)
    out: list[tuple[str, str, list[str]]] = [("", "", [])]
    taken: set[str] = set()
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag in ("h2", "h3"):
            heading = tokens[index + 1].content
            out.append((_unique(heading_anchor(heading), taken), heading, []))
        elif token.type == "inline" and not (index and tokens[index - 1].type == "heading_open"
                                             and tokens[index - 1].tag in ("h2", "h3")):
            words = [child.content for child in token.children or [] if child.type in ("text", "code_inline")]
            if words:
                out[-1][2].append(" ".join("".join(words).split()))
    return [Section(anchor, heading, " ".join(parts)) for anchor, heading, parts in out if parts or heading]
