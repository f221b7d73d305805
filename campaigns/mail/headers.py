"""Header lines written by hand: one line, RFC 2047 words for non-ASCII, folded under 78.

Every value passes through ``one_line`` first, so nothing a person typed (a name, a subject,
an inbound header reused in a reply) can start a new header line.
"""

from __future__ import annotations

import base64
import secrets
import time
from datetime import UTC, datetime
from email.utils import format_datetime

CRLF = b"\r\n"
_SPECIALS = frozenset('()<>@,;:\\".[]')
_WORD_BYTES = 45  # 60 base64 characters: an encoded word stays under RFC 2047's 75


def one_line(value: str) -> str:
    """Return the value with CR, LF, NUL and every other line break turned into spaces."""
    if not value:
        return ""
    return " ".join(value.replace("\x00", " ").split())


def header(name: str, value: str) -> bytes:
    """Return one header line (with its CRLF), encoded and folded as needed."""
    value = one_line(value)
    if not value.isascii():
        value = encode_words(value)
    line = f"{name}: {value}"
    if len(line) > 78:
        line = _fold(line)
    return line.encode("ascii") + CRLF


def encode_words(text: str) -> str:
    """Return text as RFC 2047 base64 encoded words, split between characters."""
    words, chunk, size = [], [], 0
    for char in text:
        width = len(char.encode("utf-8"))
        if size + width > _WORD_BYTES:
            words.append(_word("".join(chunk)))
            chunk, size = [], 0
        chunk.append(char)
        size += width
    if chunk:
        words.append(_word("".join(chunk)))
    return " ".join(words)


def _word(text: str) -> str:
    """Return one encoded word."""
    return "=?utf-8?b?" + base64.b64encode(text.encode("utf-8")).decode("ascii") + "?="


def _fold(line: str) -> str:
    """Fold a long header line at spaces so that lines stay near 78 characters.

    The name and the first word stay together: a fold right after the colon would make
    some parsers read the value with a leading space.
    """
    out, current = [], ""
    for word in line.split(" "):
        if current and " " in current and len(current) + 1 + len(word) > 78:
            out.append(current)
            current = " " + word
        else:
            current = f"{current} {word}" if current else word
    out.append(current)
    return "\r\n".join(out)


def format_address(name: str, email: str) -> str:
    """Return ``Name <email>`` with the name quoted or encoded as it needs."""
    name, email = one_line(name), ascii_address(one_line(email))
    if not name:
        return email
    if not name.isascii():
        return f"{encode_words(name)} <{email}>"
    if not _SPECIALS.isdisjoint(name):
        escaped = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}" <{email}>'
    return f"{name} <{email}>"


def ascii_address(email: str) -> str:
    """Return the address with an international domain in IDNA form.

    Raise ValueError for a non-ASCII local part, which needs SMTPUTF8 we do not speak.
    """
    if email.isascii():
        return email
    local, _, domain = email.rpartition("@")
    if not local.isascii():
        raise ValueError(f"{email!r} has a non-ASCII local part (needs SMTPUTF8)")
    return f"{local}@{domain.encode('idna').decode('ascii')}"


def new_message_id(domain: str) -> str:
    """Return a new globally unique Message-ID, angle brackets included."""
    return f"<{secrets.token_hex(12)}@{domain}>"


_date_cache: tuple[int, bytes] = (0, b"")


def date_header() -> bytes:
    """Return the Date header line for now (formatted once per second)."""
    global _date_cache
    now = int(time.time())
    second, line = _date_cache
    if second != now:
        stamp = format_datetime(datetime.fromtimestamp(now, UTC))
        line = f"Date: {stamp}".encode("ascii") + CRLF
        _date_cache = (now, line)
    return line
