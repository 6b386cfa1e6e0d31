"""An answer's Markdown as safe HTML (links open as links, nothing else active) and as text."""

import html

import nh3
from markdown_it import MarkdownIt

TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a", "code"}
_md = MarkdownIt("commonmark", {"html": False})


def answer_html(markdown: str) -> str:
    return nh3.clean(_md.render(markdown or ""), tags=TAGS, attributes={"a": {"href"}, "ol": {"start"}},
                     url_schemes={"https", "http", "tel", "mailto"}, link_rel="noopener noreferrer")


def plain_text(markdown: str) -> str:
    return " ".join(html.unescape(nh3.clean(_md.render(markdown or ""), tags=set())).split())
