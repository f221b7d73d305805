"""Turn an HTML body into plain text, optionally without the quoted history.

Mail clients mark their quotes in HTML: ``<blockquote>`` (Apple, Thunderbird, Gmail),
``div.gmail_quote``, ``div.yahoo_quoted``, ``div.moz-cite-prefix`` (Thunderbird's "On ...
wrote:"), and Outlook's ``div#divRplyFwdMsg`` / ``#appendonsend`` after which everything is
the original. Dropping those elements is more reliable than finding the quote again in
the flattened text. Stdlib ``html.parser`` only: it is linear and never raises on bad HTML.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

MAX_HTML = 2 * 1024 * 1024
_BLOCK = frozenset("address article aside blockquote dd div dl dt fieldset figcaption figure "
                   "footer form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section "
                   "table tr ul".split())
_SKIP_CONTENT = frozenset({"script", "style", "head", "title", "template", "noscript", "svg"})
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
_QUOTE_CLASSES = frozenset({"gmail_quote", "gmail_quote_container", "yahoo_quoted",
                            "moz-cite-prefix", "protonmail_quote", "zmail_extra",
                            "oldcontent", "replyquote", "gmail_extra"})
_REST_IS_HISTORY_IDS = ("divrplyfwdmsg", "appendonsend", "mail-editor-reference-message-container",
                        "x_divrplyfwdmsg", "reply-intro", "isforwardcontent")
_BLANKS = re.compile(r"\n[ \t\u00a0]*(?:\n[ \t\u00a0]*){2,}")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")


class _TextBuilder(HTMLParser):
    """Collect the text of HTML twice in one pass: all of it, and without quoted history."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.all_parts: list[str] = []
        self.new_parts: list[str] = []
        self.stack: list[tuple[str, bool, bool]] = []  # (tag, invisible, quote)
        self.invisible = 0
        self.quoted = 0
        self.history_started = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Open an element, noting whether it is invisible or holds a quote."""
        self.history_started = self.history_started or _starts_history(attrs)
        if tag in _BLOCK or tag == "br":
            self._emit("\n")
        if tag in _VOID:
            return
        invisible, quote = tag in _SKIP_CONTENT, _is_quote(tag, attrs)
        self.invisible += invisible
        self.quoted += quote
        self.stack.append((tag, invisible, quote))

    def handle_endtag(self, tag: str) -> None:
        """Close the innermost open element of this name (tolerating bad nesting)."""
        if tag in _VOID:
            return
        for index in range(len(self.stack) - 1, max(-1, len(self.stack) - 30), -1):
            if self.stack[index][0] == tag:
                self.invisible -= sum(entry[1] for entry in self.stack[index:])
                self.quoted -= sum(entry[2] for entry in self.stack[index:])
                del self.stack[index:]
                break
        if tag in _BLOCK:
            self._emit("\n")

    def handle_data(self, data: str) -> None:
        """Keep visible text."""
        if not self.invisible:
            self._emit(_SPACES.sub(" ", data.replace("\n", " ")))

    def _emit(self, text: str) -> None:
        """Add text to the full stream, and to the new-text stream outside history."""
        self.all_parts.append(text)
        if not (self.quoted or self.history_started):
            self.new_parts.append(text)


def _attr(attrs: list[tuple[str, str | None]], name: str) -> str:
    """Return an attribute's lower-cased value, '' when absent."""
    return next((v or "" for k, v in attrs if k == name), "").lower()


def _is_quote(tag: str, attrs: list[tuple[str, str | None]]) -> bool:
    """Tell whether an element holds quoted history."""
    if tag == "blockquote":
        return True
    classes = set(_attr(attrs, "class").split())
    return bool(classes & _QUOTE_CLASSES)


def _starts_history(attrs: list[tuple[str, str | None]]) -> bool:
    """Tell whether an element begins Outlook's quoted original (everything after it)."""
    ident = _attr(attrs, "id")
    return bool(ident) and ident.startswith(_REST_IS_HISTORY_IDS)


def html_texts(html: str) -> tuple[str, str]:
    """Return (all visible text, text without quoted history) of an HTML body."""
    builder = _TextBuilder()
    try:
        builder.feed(html[:MAX_HTML])
        builder.close()
    except (AssertionError, ValueError):  # html.parser is lenient; guard its rare asserts
        pass
    return _tidy(builder.all_parts), _tidy(builder.new_parts)


def html_to_text(html: str, *, drop_quotes: bool = False) -> str:
    """Return the visible text of an HTML body; with drop_quotes, without quoted history."""
    full, new = html_texts(html)
    return new if drop_quotes else full


def _tidy(parts: list[str]) -> str:
    """Join text parts, trim each line and squeeze runs of blank lines."""
    lines = [line.strip() for line in "".join(parts).split("\n")]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()
