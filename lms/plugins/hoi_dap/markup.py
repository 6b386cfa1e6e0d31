"""An answer's Markdown as safe HTML (links open as links, nothing else active) and as text."""

from lms.text import markdown_html, markdown_text


def answer_html(markdown: str) -> str:
    return markdown_html(markdown)


def plain_text(markdown: str) -> str:
    return markdown_text(markdown)
