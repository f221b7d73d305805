"""List and extract the attachments of a stored inbound message, for download."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message

from campaigns.mail.inbound.mime import content_type, is_attachment, iter_parts, part_bytes
from campaigns.mail.inbound.parse import clean_text, decode_words, parse_bytes

_UNSAFE_NAME = re.compile(r"[^\w.\- ()\[\]]+", re.UNICODE)


@dataclass(frozen=True)
class Attachment:
    """One attachment: its position among the parts, a safe file name, type and size."""

    index: int
    filename: str
    content_type: str
    size: int


def _filename(part: Message, index: int) -> str:
    """Return a file name safe to offer for download (no paths, no control characters)."""
    raw = part.get_filename() or part.get_param("name") or ""
    name = clean_text(decode_words(str(raw))).replace("/", "_").replace("\\", "_")
    name = _UNSAFE_NAME.sub("_", name).strip(" .")[:120]
    return name or f"attachment-{index}"


def _attachment_parts(raw: bytes) -> list[tuple[int, Message]]:
    """Return (index, part) for every attachment-like leaf part."""
    message = parse_bytes(raw).message
    found = []
    for index, part in enumerate(iter_parts(message)):
        if part.is_multipart():
            continue
        if is_attachment(part) or (part.get_filename() and not content_type(part).startswith(
                "text/")):
            found.append((index, part))
    return found


def list_attachments(raw: bytes) -> list[Attachment]:
    """List the attachments of a raw message."""
    return [Attachment(index, _filename(part, index), content_type(part), len(part_bytes(part)))
            for index, part in _attachment_parts(raw)]


def attachment_content(raw: bytes, index: int) -> tuple[Attachment, bytes] | None:
    """Return one attachment's description and bytes, or None if there is no such part."""
    for found, part in _attachment_parts(raw):
        if found == index:
            data = part_bytes(part)
            return Attachment(index, _filename(part, index), content_type(part), len(data)), data
    return None
