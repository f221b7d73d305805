"""Find the line of an MJML error: the compiler (mrml) says what went wrong, never where.

A tolerant pass over the tags catches the usual mistakes (an unknown or unclosed tag, a
closing tag that does not match) at their line. When it finds nothing, the first line at
which the document, closed off there, stops compiling is where the error starts.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from mjml import mjml2html

KNOWN_TAGS = frozenset("""
mjml mj-head mj-body mj-attributes mj-all mj-class mj-breakpoint mj-font mj-html-attributes
mj-html-attribute mj-selector mj-preview mj-style mj-title mj-include mj-accordion
mj-accordion-element mj-accordion-title mj-accordion-text mj-button mj-carousel
mj-carousel-image mj-column mj-divider mj-group mj-hero mj-image mj-navbar mj-navbar-link
mj-raw mj-section mj-social mj-social-element mj-spacer mj-table mj-text mj-wrapper
""".split())
_POSITION = re.compile(r" at position (\d+):(\d+)")
# Tags whose content is HTML, not MJML: mj-* tags inside them are a mistake.
ENDING_TAGS = frozenset({"mj-text", "mj-button", "mj-table", "mj-raw", "mj-navbar-link",
                         "mj-accordion-title", "mj-accordion-text", "mj-social-element",
                         "mj-style", "mj-title", "mj-preview"})
VOID_TAGS = frozenset({"mj-image", "mj-divider", "mj-spacer", "mj-all", "mj-breakpoint",
                       "mj-font", "mj-include", "mj-carousel-image"})


class _TagWalker(HTMLParser):
    """Track open mj-* tags with their lines and note every structural mistake."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, int]] = []
        self.problems: list[tuple[int, str]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if not tag.startswith("mj") or tag in VOID_TAGS:
            self._check_known(tag)
            return
        self._check_known(tag)
        if self.stack and self.stack[-1][0] in ENDING_TAGS:
            inner = self.stack[-1][0]
            self.problems.append((self.getpos()[0], f"<{tag}> cannot go inside <{inner}>"))
        self.stack.append((tag, self.getpos()[0]))

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        self._check_known(tag)

    def handle_endtag(self, tag: str) -> None:
        if not tag.startswith("mj") or tag in VOID_TAGS:
            return
        line = self.getpos()[0]
        if not any(name == tag for name, _ in self.stack):
            self.problems.append((line, f"</{tag}> closes a tag that is not open"))
            return
        while self.stack:
            name, opened = self.stack.pop()
            if name == tag:
                return
            self.problems.append((opened, f"<{name}> is not closed before </{tag}> "
                                          f"on line {line}"))

    def _check_known(self, tag: str) -> None:
        if (tag == "mjml" or tag.startswith("mj-")) and tag not in KNOWN_TAGS:
            self.problems.append((self.getpos()[0], f"unknown MJML tag <{tag}>"))

    def unclosed(self) -> list[tuple[int, str]]:
        """Return the tags still open at the end of the document."""
        return [(line, f"<{name}> is never closed") for name, line in self.stack]

    def inside_a_tag(self) -> bool:
        """Tell whether the text fed so far stops in the middle of a tag."""
        return self.rawdata.lstrip().startswith("<")


def lint(source: str) -> list[tuple[int, str]]:
    """Return (line, message) for each structural mistake found in an MJML document."""
    walker = _TagWalker()
    walker.feed(source)
    walker.close()
    problems = walker.problems + walker.unclosed()
    if "<mjml" not in source:
        problems.append((1, "an MJML document starts with <mjml> and holds <mj-body>"))
    return sorted(problems, key=lambda problem: problem[0])  # by line, first found first


def first_failing_line(source: str) -> int | None:
    """Return the first line at which the document, closed off there, stops compiling."""
    lines = source.splitlines(keepends=True)
    if len(lines) > 2000:
        return None
    for count in range(1, len(lines) + 1):
        walker = _TagWalker()
        walker.feed("".join(lines[:count]))
        if walker.inside_a_tag():
            continue  # a tag spread over several lines: judge it where it ends
        closing = "".join(f"</{name}>" for name, _ in reversed(walker.stack))
        try:
            mjml2html("".join(lines[:count]) + closing, fonts={})
        except ValueError:
            return count
    return None


def locate(source: str, compiler_message: str) -> list:
    """Return the problems of a document MJML refused, each at its line when found."""
    from campaigns.mail.render import Problem

    found = lint(source)
    if found:
        return [Problem("body", f"MJML: {message}", line) for line, message in found]
    position = _POSITION.search(compiler_message)
    if position:  # some mrml errors carry the token's byte span: "... at position 16:28"
        data, start, end = source.encode("utf-8"), int(position.group(1)), int(position.group(2))
        token = data[start:end]
        offset = start + len(token) - len(token.lstrip())  # the span starts with whitespace
        line = data[:offset].count(b"\n") + 1
        message = compiler_message[:position.start()].rstrip()
        return [Problem("body", f"MJML: {message}", line)]
    return [Problem("body", f"MJML: {compiler_message}", first_failing_line(source))]
