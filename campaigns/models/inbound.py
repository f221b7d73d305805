"""Inbound messages (stored raw before they are understood) and mailbox checkpoints."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from campaigns.db import db, utcnow


class InboundKind(StrEnum):
    """What an inbound message is, once understood."""

    HUMAN = "human"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    UNSUBSCRIBE = "unsubscribe"
    COMPLAINT = "complaint"
    UNKNOWN = "unknown"


class InboundStatus(StrEnum):
    """Where an inbound message is in the pipeline."""

    STORED = "stored"  # raw bytes kept, not yet processed
    PROCESSED = "processed"
    UNMATCHED = "unmatched"  # understood, but no delivery found: waits in triage
    NEEDS_REVIEW = "needs_review"  # processing failed; the raw message is kept for a look
    TO_CONFIRM = "to_confirm"  # a written unsubscribe request waiting for a user to confirm
    UNVERIFIED = "unverified"  # a bounce or complaint that names no message of ours
    DISMISSED = "dismissed"


class ReceivedVia(StrEnum):
    """Which intake brought the message in."""

    IMAP = "imap"
    WEBHOOK = "webhook"
    LMTP = "lmtp"
    FILE = "file"
    DEMO = "demo"  # the one-process demo loop's "reply as the recipient" page


class MatchMethod(StrEnum):
    """How an inbound message was tied to what we sent."""

    TOKEN = "token"
    HEADERS = "headers"
    ADDRESS = "address"
    MANUAL = "manual"


def read_raw(raw: bytes | None, raw_path: str) -> bytes | None:
    """Return the raw bytes a row holds, else those of the file it names by absolute path
    (None if gone)."""
    if raw is not None:
        return raw
    if raw_path and Path(raw_path).is_file():
        return Path(raw_path).read_bytes()
    return None


class InboundMessage(db.Model):
    """One received email: the raw bytes first, then what we understood of it."""

    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Message-ID when present, else "sha256:<content hash>": the one key duplicates collide on.
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    message_id: Mapped[str] = mapped_column(String(300), default="", index=True)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    raw: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    raw_path: Mapped[str] = mapped_column(String(500), default="")  # when kept on disk instead
    size: Mapped[int] = mapped_column(default=0)
    received_via: Mapped[ReceivedVia] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    status: Mapped[InboundStatus] = mapped_column(String(20), default=InboundStatus.STORED,
                                                  index=True)
    kind: Mapped[InboundKind | None] = mapped_column(String(20))
    parse_errors: Mapped[str] = mapped_column(Text, default="")
    from_email: Mapped[str] = mapped_column(String(320), default="", index=True)
    from_name: Mapped[str] = mapped_column(String(300), default="")
    subject: Mapped[str] = mapped_column(String(1000), default="")
    sent_at: Mapped[datetime | None]  # the message's Date header
    new_text: Mapped[str] = mapped_column(Text, default="")
    quoted_text: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str] = mapped_column(Text, default="")  # sanitised for display
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # bounce, auto-reply info
    return_date: Mapped[date | None]  # first day an out-of-office sender is back
    match_method: Mapped[MatchMethod | None] = mapped_column(String(20))
    delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("deliveries.id", ondelete="SET NULL"), index=True)
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscribers.id", ondelete="SET NULL"), index=True)
    followup_id: Mapped[int | None] = mapped_column(
        ForeignKey("followups.id", ondelete="SET NULL"), index=True)
    processed_at: Mapped[datetime | None]

    def load_raw(self) -> bytes | None:
        """Return the raw bytes as received, from the row or its file (None if gone)."""
        return read_raw(self.raw, self.raw_path)


class MailboxCheckpoint(db.Model):
    """How far an IMAP mailbox has been read: UIDVALIDITY and the last UID taken."""

    __tablename__ = "mailbox_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(500), unique=True)  # user@host/folder
    uidvalidity: Mapped[int] = mapped_column(default=0)
    last_uid: Mapped[int] = mapped_column(default=0)
    polled_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
