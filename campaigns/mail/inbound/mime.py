"""Walk a parsed message: decoded text parts, the reader's body, an attached original."""

from __future__ import annotations

import binascii
import quopri
from collections.abc import Iterator
from email.message import Message

from campaigns.mail.inbound.memo import first_value, remembered
from campaigns.mail.inbound.parse import decode_bytes

MAX_PARTS = 200  # a reply has a handful; a hostile message may have thousands
MAX_DEPTH = 20
_ORIGINAL_TYPES = ("message/rfc822", "text/rfc822-headers", "text/rfc822-header",
                   "message/rfc822-headers", "message/global", "message/global-headers")


def iter_parts(msg: Message, *, into_messages: bool = False) -> Iterator[Message]:
    """Yield leaf and container parts depth-first, bounded in count and depth."""
    stack: list[tuple[Message, int]] = [(msg, 0)]
    count = 0
    while stack and count < MAX_PARTS:
        part, depth = stack.pop()
        count += 1
        yield part
        if depth >= MAX_DEPTH or not part.is_multipart():
            continue
        if _declared_type(part) in _ORIGINAL_TYPES and not into_messages:
            continue
        children = [p for p in part.get_payload() if isinstance(p, Message)]
        stack.extend((child, depth + 1) for child in reversed(children))


def content_type(part: Message) -> str:
    """Return the lower-cased content type; 'text/plain' when it is malformed."""
    try:
        ctype = _declared_type(part)
    except (TypeError, ValueError, AttributeError):
        return "text/plain"
    if ctype.startswith("multipart/") and not part.is_multipart():
        return "text/plain"  # a multipart without a usable boundary is just text
    return ctype


def _declared_type(part: Message) -> str:
    """Return ``part.get_content_type()``, parsed once per part."""
    return remembered(part, "content type", part.get_content_type)


def is_attachment(part: Message) -> bool:
    """Tell whether a part is marked as an attachment (or carries a file name)."""
    disposition = first_value(part, "Content-Disposition").lower()
    return disposition.startswith("attachment")


def part_bytes(part: Message) -> bytes:
    """Return the transfer-decoded payload bytes of a part; b'' when there is none."""
    if part.is_multipart():
        blocks = [p for p in part.get_payload() if isinstance(p, Message)]
        if content_type(part).endswith("delivery-status"):
            text = "\n\n".join(_fields_text(p) for p in blocks)
            return _undo_transfer_encoding(part, text.encode("utf-8", "surrogateescape"))
        return b"\n\n".join(p.as_bytes() for p in blocks)
    try:
        data = part.get_payload(decode=True)
    except (ValueError, TypeError, AssertionError, LookupError):
        data = None
    return data if isinstance(data, bytes) else b""


def _undo_transfer_encoding(part: Message, data: bytes) -> bytes:
    """Decode a base64/QP delivery-status the parser split into blocks before decoding."""
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    try:
        if encoding == "base64":
            return binascii.a2b_base64(b"".join(data.split()))
        if encoding == "quoted-printable":
            return quopri.decodestring(data)
    except (binascii.Error, ValueError):
        return data
    return data


def _fields_text(block: Message) -> str:
    """Rebuild the 'Name: value' text of a parsed delivery-status block (fast as_string)."""
    lines = [f"{name}: {value}" for name, value in block.items()]
    payload = block.get_payload()
    if isinstance(payload, str) and payload.strip():
        lines.append(payload)
    return "\n".join(lines)


def part_text(part: Message) -> str:
    """Return a part's payload decoded to text in its declared charset."""
    try:
        charset = part.get_content_charset()
    except (ValueError, LookupError, TypeError):
        charset = None
    text = decode_bytes(part_bytes(part), charset)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def body_parts(msg: Message) -> tuple[str, str]:
    """Return (plain text, html) of the reader-visible body, ignoring attachments."""
    plain = html = ""
    for part in iter_parts(msg):
        ctype = content_type(part)
        if part.is_multipart() or is_attachment(part):
            continue
        if ctype == "text/plain" and not plain:
            plain = part_text(part)
        elif ctype == "text/html" and not html:
            html = part_text(part)
        if plain and html:
            break
    return plain, html


def report_texts(msg: Message) -> list[str]:
    """Return the decoded text parts written by the reporting system (not the original)."""
    texts = []
    for part in iter_parts(msg):
        ctype = content_type(part)
        if part.is_multipart() or ctype in _ORIGINAL_TYPES:
            continue
        if ctype.startswith("text/") or ctype in ("message/delivery-status",
                                                  "message/global-delivery-status"):
            texts.append(part_text(part))
    return texts


def original_message(msg: Message) -> Message | None:
    """Return the returned original message (or its headers) attached to a report."""
    for part in iter_parts(msg):
        ctype = content_type(part)
        if ctype not in _ORIGINAL_TYPES:
            continue
        payload = part.get_payload()
        if isinstance(payload, list) and payload and isinstance(payload[0], Message):
            return payload[0]
        return _headers_from_text(part_text(part))
    return None


def _headers_from_text(text: str) -> Message | None:
    """Parse a text/rfc822-headers payload into a headers-only Message."""
    from email import policy
    from email.parser import Parser

    text = text.lstrip("\n")[:64 * 1024]
    if ":" not in text[:200]:
        return None
    return Parser(policy=policy.compat32).parsestr(text, headersonly=True)
