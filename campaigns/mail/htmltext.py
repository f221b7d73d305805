"""Turn an email's HTML into its plain-text part: paragraphs, lists and links kept readable."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_SKIP = frozenset({"head", "style", "script", "title", "noscript", "xml"})
_BLOCK = frozenset({"p", "div", "table", "tr", "section", "article", "header", "footer",
                    "blockquote", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "pre"})
_PARAGRAPH = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul", "ol"})
_SPACES = re.compile(r"[ \t\r\n\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_SPACE_AROUND_BREAK = re.compile(r"[ \t]*\r?\n[ \t]*")
_MANY_BREAKS = re.compile(r"(?:\r\n){3,}")


class _TextWriter(HTMLParser):
    """Collect visible text, with line breaks where blocks end and links spelt out."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skipping = 0
        self.links: list[tuple[str, int]] = []  # href and where its text starts in out
        self.hidden: list[str] = []  # open tags of an element hidden with display:none

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.hidden or _is_hidden(attrs):
            self.hidden.append(tag)  # e.g. MJML's preheader: inbox preview only
        elif tag in _SKIP:
            self.skipping += 1
        elif tag == "br":
            self.out.append("\n")
        elif tag == "li":
            self.out.append("\n- ")
        elif tag == "a":
            self.links.append((dict(attrs).get("href") or "", len(self.out)))
        elif tag == "img":
            alt = (dict(attrs).get("alt") or "").strip()
            if alt:
                self.out.append(alt)
        elif tag in _BLOCK:
            self.out.append("\n\n" if tag in _PARAGRAPH else "\n")

    def handle_endtag(self, tag: str) -> None:
        if self.hidden:
            if tag in self.hidden:
                while self.hidden.pop() != tag:
                    pass
        elif tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag == "a" and self.links:
            self._close_link()
        elif tag in _BLOCK:
            self.out.append("\n\n" if tag in _PARAGRAPH else "\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping and not self.hidden:
            self.out.append(_SPACES.sub(" ", data))

    def _close_link(self) -> None:
        """Write the address after the link's text, unless the text already is the address."""
        href, start = self.links.pop()
        label = "".join(self.out[start:]).strip()
        if href and not href.startswith("#") and href.removeprefix("mailto:") != label:
            self.out.append(f" ({href.removeprefix('mailto:')})" if label else href)


def _is_hidden(attrs: list[tuple[str, str | None]]) -> bool:
    """Tell whether an element's inline style hides it."""
    style = (dict(attrs).get("style") or "").replace(" ", "").lower()
    return "display:none" in style


def html_to_text(html: str) -> str:
    """Return the readable text of an HTML document."""
    writer = _TextWriter()
    writer.feed(html)
    writer.close()
    lines = [line.strip() for line in "".join(writer.out).split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip() + "\n"


def tidy_text(text: str) -> str:
    """Tidy a generated text part once rendered (Jinja blocks leave blank lines and spaces)."""
    text = _SPACE_AROUND_BREAK.sub("\r\n", text)
    return _MANY_BREAKS.sub("\r\n\r\n", text).strip() + "\r\n"
