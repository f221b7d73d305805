"""Parse raw inbound bytes safely, and decode header values without letting CR/LF through.

Policy, measured on CPython 3.11 here:

* ``email.policy.default`` parses structured headers with a recursive-descent parser that
  is quadratic or worse on hostile input: a 16 KB ``Content-Type`` of ``(a)`` comments took
  13.5 s, 16 KB of ``"`` in ``To`` 2.7 s. ``compat32`` parsed the same messages in under
  50 ms, so we parse with ``compat32`` (headers stay plain strings) and decode values with
  our own linear helpers below.
* ``email.utils.getaddresses`` recurses once per nested ``(`` and raised ``RecursionError``
  on 16 KB of them, so addresses are split by a linear scanner (addresses.py).
* Before the stdlib sees anything we cap the whole message (:data:`MAX_MESSAGE_BYTES`) and
  the header block (:data:`MAX_HEADER_BYTES`) and raise :class:`MessageTooLarge`; a single
  header field longer than :data:`MAX_FIELD_BYTES` is dropped and reported in
  ``ParsedMessage.errors`` rather than failing the message, because one absurd header
  should not cost a person's reply.
* Parsing is linear but not cheap: 20,000 tiny MIME parts cost ~0.75 s of CPU, so a 25 MB
  message of them would hold a worker for ~20 s. A body with more than
  :data:`MAX_BOUNDARY_LINES` lines that could open a part is refused before parsing.
"""

from __future__ import annotations

import email.header
import re
from dataclasses import dataclass, field
from email import policy
from email.errors import HeaderParseError
from email.message import Message
from email.parser import BytesParser

from campaigns.mail.inbound.memo import RememberingMessage, header_index, remembered

MAX_MESSAGE_BYTES = 25 * 1024 * 1024  # the common provider limit for one message
MAX_HEADER_BYTES = 512 * 1024  # long Received/ARC chains stay well under this
MAX_FIELD_BYTES = 32 * 1024  # one logical header field, continuation lines included
MAX_ENCODED_CHARS = 4096  # of a value holding RFC 2047 encoded-words
MAX_BOUNDARY_LINES = 5_000  # lines starting "--": a reply has a few dozen

_HEADER_END = re.compile(rb"\r?\n\r?\n")
_FIELD_START = re.compile(rb"^[^ \t\r\n]", re.M)
# C0/C1 controls, DEL, line/paragraph separators and bidi overrides: never part of a
# displayable header value, and CR/LF would let a decoded value inject headers.
_UNSAFE_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]+")
_SPACES = re.compile(r"\s+")
_SURROGATES = re.compile("[\udc80-\udcff]")


class InboundParseError(ValueError):
    """A raw message that cannot be parsed under our limits."""


class MessageTooLarge(InboundParseError):
    """The message or its header block is over the configured cap."""


@dataclass(frozen=True)
class ParsedMessage:
    """A parsed message with the problems met while parsing it."""

    message: Message
    errors: tuple[str, ...] = field(default=())


def parse_bytes(
    raw: bytes,
    *,
    max_bytes: int = MAX_MESSAGE_BYTES,
    max_header_bytes: int = MAX_HEADER_BYTES,
) -> ParsedMessage:
    """Parse raw RFC 5322 bytes with size caps; raise MessageTooLarge over the caps.

    The caps: the whole message, the header block, and the number of lines that could open
    a MIME part (see the module docstring).
    """
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise InboundParseError(f"expected bytes, got {type(raw).__name__}")
    raw = bytes(raw)
    if len(raw) > max_bytes:
        raise MessageTooLarge(f"message is {len(raw)} bytes; the limit is {max_bytes}")
    end = _HEADER_END.search(raw)
    header_len = end.start() if end else len(raw)
    if header_len > max_header_bytes:
        raise MessageTooLarge(f"header block is {header_len} bytes; limit {max_header_bytes}")
    # The parser also ends lines at a bare CR; a CRLF is counted once (as its LF).
    boundaries = raw.count(b"\n--", header_len) + raw.count(b"\r--", header_len)
    if boundaries > MAX_BOUNDARY_LINES:
        raise MessageTooLarge(f"body has {boundaries} lines that may start MIME parts; "
                              f"limit {MAX_BOUNDARY_LINES}")
    raw, errors = _drop_oversized_fields(raw, header_len)
    message = BytesParser(RememberingMessage, policy=policy.compat32).parsebytes(raw)
    errors += [f"defect: {type(d).__name__}" for d in message.defects[:5]]
    return ParsedMessage(message, tuple(errors))


def parse_headers_only(raw: bytes, *, max_header_bytes: int = MAX_HEADER_BYTES) -> Message:
    """Parse just the header block of a message whose body is over the size cap."""
    end = _HEADER_END.search(raw, 0, max_header_bytes + 4)
    if end is None:
        raise MessageTooLarge("no end of headers within the header cap")
    head, _ = _drop_oversized_fields(raw[: end.end()], end.start())
    parser = BytesParser(RememberingMessage, policy=policy.compat32)
    return parser.parsebytes(head, headersonly=True)


def _drop_oversized_fields(raw: bytes, header_len: int) -> tuple[bytes, list[str]]:
    """Remove top-level header fields longer than MAX_FIELD_BYTES."""
    head = raw[:header_len]
    if len(head) <= MAX_FIELD_BYTES:
        return raw, []
    starts = [m.start() for m in _FIELD_START.finditer(head)] + [len(head)]
    kept, errors = [], []
    for begin, stop in zip(starts, starts[1:], strict=False):
        if stop - begin > MAX_FIELD_BYTES:
            name = head[begin : begin + 40].split(b":", 1)[0].decode("ascii", "replace")
            errors.append(f"header field {name!r} over {MAX_FIELD_BYTES} bytes dropped")
        else:
            kept.append(head[begin:stop])
    if not errors:
        return raw, []
    return head[: starts[0]] + b"".join(kept) + raw[header_len:], errors


def clean_text(value: str) -> str:
    """Replace control characters (CR, LF, NUL, bidi overrides...) by spaces and trim."""
    return _SPACES.sub(" ", _UNSAFE_CHARS.sub(" ", value)).strip()


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded-words and raw 8-bit bytes into text (not yet cleaned)."""
    value = _undo_surrogates(value)
    if "=?" not in value:
        return value
    # decode_header's regex is quadratic on runs of unterminated encoded-words (0.11 s at
    # 16 KB); no real display value needs more than this.
    value = value[:MAX_ENCODED_CHARS]
    try:
        parts = email.header.decode_header(value)
    except (ValueError, LookupError, AssertionError, HeaderParseError):
        return value
    return "".join(_decode_part(chunk, charset) for chunk, charset in parts)


def _decode_part(chunk: bytes | str, charset: str | None) -> str:
    """Decode one (chunk, charset) pair from decode_header, never failing."""
    if isinstance(chunk, str):
        return chunk
    return decode_bytes(chunk, charset)


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode bytes in a declared charset, falling back to UTF-8 then Latin-1."""
    for candidate in (charset, "utf-8"):
        if not candidate or candidate.lower() in ("unknown-8bit", "x-unknown"):
            continue
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError, ValueError):
            continue
    return data.decode("latin-1")


def _undo_surrogates(value: str) -> str:
    """Turn surrogate-escaped 8-bit header bytes (as compat32 leaves them) into text."""
    if not _SURROGATES.search(value):
        return value
    return decode_bytes(value.encode("utf-8", "surrogateescape"), "utf-8")


def header_text(value: object) -> str:
    """Decode and clean one raw header value (str or Header) into display-safe text."""
    if value is None:
        return ""
    if isinstance(value, email.header.Header):
        value = str(value)
    return clean_text(decode_words(str(value)))


def raw_values(msg: Message, name: str) -> list[str]:
    """Return a header's raw values, 8-bit bytes still surrogate-escaped (not mangled)."""
    return list(header_index(msg).get(name.lower(), ()))


def safe_header(msg: Message, name: str) -> str:
    """Return the decoded value of header `name` with CR/LF and control chars removed."""
    values = safe_headers(msg, name)
    return values[0] if values else ""


def safe_headers(msg: Message, name: str) -> list[str]:
    """Return every decoded, cleaned value of a repeated header."""
    return list(remembered(msg, ("safe", name.lower()), lambda: _safe_headers(msg, name)))


def _safe_headers(msg: Message, name: str) -> list[str]:
    """Decode and clean every value of a header."""
    try:
        return [header_text(value) for value in raw_values(msg, name)]
    except (TypeError, ValueError, LookupError):
        return []
