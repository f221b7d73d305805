"""The one-process demo loop: read the file outbox and answer a message as its recipient.

With MAIL_URL=file://, every email the app "sends" is an .eml file under the instance
outbox. A new user can open one, write a reply as if they were the recipient, and the reply
enters through the same inbound pipeline as real mail, so the whole loop is visible on a
fresh machine without any mail server.
"""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app

from campaigns.errors import NotFound, ValidationError
from campaigns.mail.inbound.parse import parse_bytes, safe_header
from campaigns.mail.inbound.understand import understand

_NAME = re.compile(r"^[\w.-]+\.eml$")
MAX_LISTED = 200


@dataclass(frozen=True)
class OutboxMessage:
    """One sent email as the outbox holds it."""

    name: str
    to: str
    subject: str
    date: datetime | None
    size: int


def outbox_dir() -> Path | None:
    """Return the file outbox folder, or None when mail does not go to files."""
    url = current_app.config["MAIL_URL"]
    if urlsplit(url).scheme != "file":
        return None
    path = urlsplit(url).path
    return Path(path) if path not in ("", "/") else Path(current_app.instance_path) / "outbox"


def list_outbox() -> list[OutboxMessage]:
    """List the newest sent emails in the outbox."""
    folder = outbox_dir()
    if folder is None or not folder.is_dir():
        return []
    names = sorted((p.name for p in folder.glob("*.eml")), reverse=True)[:MAX_LISTED]
    return [_summary(folder / name) for name in names]


def _summary(path: Path) -> OutboxMessage:
    """Read the headers a list of sent emails shows."""
    with path.open("rb") as handle:
        head = handle.read(64 * 1024)
    message = parse_bytes(head.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n").message
    try:
        date = email.utils.parsedate_to_datetime(safe_header(message, "Date"))
    except (TypeError, ValueError):
        date = None
    return OutboxMessage(path.name, safe_header(message, "To"), safe_header(message, "Subject"),
                         date, path.stat().st_size)


def read_outbox(name: str) -> bytes:
    """Return the bytes of one outbox file (names are checked: no paths)."""
    folder = outbox_dir()
    if folder is None or not _NAME.match(name) or not (folder / name).is_file():
        raise NotFound("No such email in the outbox.")
    return (folder / name).read_bytes()


def reply_as_recipient(original: bytes, text: str) -> bytes:
    """Write the reply the recipient of `original` would send, threaded and quoted."""
    if not text.strip():
        raise ValidationError("Write a reply first.")
    sent = understand(original)
    headers = parse_bytes(original).message
    reply = EmailMessage()
    recipient = safe_header(headers, "To")
    reply["From"] = recipient
    reply["To"] = safe_header(headers, "Reply-To") or safe_header(headers, "From")
    subject = sent.subject
    reply["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    reply["Date"] = email.utils.formatdate(localtime=False)
    reply["Message-ID"] = email.utils.make_msgid(domain="demo.invalid")
    if sent.message_id:  # understand() gives ids without their angle brackets
        reply["In-Reply-To"] = f"<{sent.message_id}>"
        reply["References"] = " ".join(f"<{i}>" for i in [*sent.references, sent.message_id])
    quoted = "\n".join("> " + line for line in (sent.text_body or "").splitlines())
    sender = safe_header(headers, "From")
    reply.set_content(f"{text.strip()}\n\nOn {safe_header(headers, 'Date')}, {sender} wrote:\n"
                      f"{quoted}\n")
    return reply.as_bytes()


def deliver_reply(raw: bytes) -> int:
    """Hand a demo reply to the inbound pipeline, as the webhook or IMAP would; return its id."""
    from campaigns.core.inbound.store import store_raw
    from campaigns.models import ReceivedVia

    return store_raw(raw, ReceivedVia.DEMO).id
