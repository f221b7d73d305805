"""Read RFC 3464 / RFC 6533 delivery-status fields and RFC 5965 feedback-report fields.

Written here rather than taken from flufl.bounce because flufl's DSN detector returns
addresses only: we also need each recipient's Action (failed vs delayed vs delivered),
Status and Diagnostic-Code to tell a bounce from a delay and hard from soft.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message

from campaigns.mail.inbound.addresses import ADDRESS
from campaigns.mail.inbound.mime import content_type, iter_parts, part_text

STATUS_CODE = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?!\.?\d)")
_FIELD = re.compile(r"^([A-Za-z][A-Za-z0-9-]{1,40})[ \t]*:[ \t]*(.*)$")
_DSN_TYPES = ("message/delivery-status", "message/global-delivery-status")
_RECIPIENT_FIELDS = ("final-recipient", "original-recipient", "x-actual-recipient")


@dataclass(frozen=True)
class RecipientStatus:
    """One per-recipient block of a delivery-status report."""

    recipient: str
    action: str
    status: str
    diagnostic: str
    original: str = ""


def parse_fields(text: str) -> list[dict[str, str]]:
    """Split 'Name: value' text into blocks (separated by blank lines) of lower-cased fields."""
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last = ""
    for line in text.splitlines():
        if not line.strip():
            if current:
                blocks.append(current)
            current, last = {}, ""
        elif line[0] in " \t" and last:
            current[last] += " " + line.strip()
        elif match := _FIELD.match(line):
            last = match.group(1).lower()
            current[last] = (current.get(last, "") + " " + match.group(2).strip()).strip()
        else:
            last = ""
    if current:
        blocks.append(current)
    return blocks


def address_of(value: str) -> str:
    """Return the address in a 'rfc822; user@host' style field, lower-cased."""
    value = value.split(";", 1)[1] if ";" in value else value
    match = ADDRESS.search(value)
    return match.group(1).lower().rstrip(".") if match else ""


def normal_status(value: str) -> str:
    """Return the first x.y.z status code inside a Status field value, or ''."""
    match = STATUS_CODE.search(value)
    return ".".join(match.groups()) if match else ""


def recipients_from_blocks(blocks: list[dict[str, str]]) -> list[RecipientStatus]:
    """Turn field blocks into recipient statuses; recipient is '' when not an address."""
    found = []
    for block in blocks:
        final = next((address_of(block[f]) for f in _RECIPIENT_FIELDS if f in block), "")
        if not final and not any(f in block for f in _RECIPIENT_FIELDS):
            continue  # the per-message block, or noise
        found.append(RecipientStatus(
            recipient=final,
            action=block.get("action", "").strip().lower().split(" ")[0],
            status=normal_status(block.get("status", "")),
            diagnostic=block.get("diagnostic-code", ""),
            original=address_of(block.get("original-recipient", "")),
        ))
    return found


def delivery_status(msg: Message) -> list[RecipientStatus] | None:
    """Return the recipients of a message/delivery-status part; None when there is none."""
    for part in iter_parts(msg):
        if content_type(part) in _DSN_TYPES:
            return recipients_from_blocks(parse_fields(part_text(part)))
    return None


def feedback_report(msg: Message) -> dict[str, str] | None:
    """Return the fields of an RFC 5965 message/feedback-report part, if present."""
    for part in iter_parts(msg):
        if content_type(part) == "message/feedback-report":
            merged: dict[str, str] = {}
            for block in parse_fields(part_text(part)):
                for key, value in block.items():
                    merged[key] = (merged.get(key, "") + " " + value).strip()
            return merged
    return None
