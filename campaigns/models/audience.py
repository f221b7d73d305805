"""Subscribers, tags, segments, consent history and the suppression list."""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaigns.db import db, utcnow


class ConsentStatus(StrEnum):
    """Whether a subscriber may be emailed."""

    SUBSCRIBED = "subscribed"
    PENDING = "pending"  # signed up, double opt-in not yet confirmed
    UNSUBSCRIBED = "unsubscribed"


class ConsentSource(StrEnum):
    """How a subscriber's consent was last set."""

    IMPORT = "import"
    SIGNUP = "signup"
    API = "api"
    MANUAL = "manual"
    UNSUBSCRIBE_LINK = "unsubscribe_link"
    ONE_CLICK = "one_click"
    REPLY = "reply"  # a written request in a reply, confirmed by a user


class SuppressionReason(StrEnum):
    """Why an address must never be sent to."""

    UNSUBSCRIBED = "unsubscribed"
    HARD_BOUNCE = "hard_bounce"
    SOFT_BOUNCES = "soft_bounces"
    COMPLAINT = "complaint"
    MANUAL = "manual"
    ERASED = "erased"


subscriber_tags = Table(
    "subscriber_tags",
    db.metadata,
    Column("subscriber_id", ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Tag(db.Model):
    """A label on subscribers, used to build audiences."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)


class Subscriber(db.Model):
    """A person on the list."""

    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # normalised, lower case
    first_name: Mapped[str] = mapped_column(String(200), default="")
    last_name: Mapped[str] = mapped_column(String(200), default="")
    company: Mapped[str] = mapped_column(String(200), default="")
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # custom fields
    consent_status: Mapped[ConsentStatus] = mapped_column(String(20),
                                                          default=ConsentStatus.SUBSCRIBED)
    consent_source: Mapped[ConsentSource] = mapped_column(String(20),
                                                          default=ConsentSource.MANUAL)
    soft_bounces: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    tags: Mapped[list[Tag]] = relationship(secondary=subscriber_tags, lazy="selectin")

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    @property
    def display_name(self) -> str:
        return self.name or self.email

    @property
    def tag_names(self) -> list[str]:
        return sorted(t.name for t in self.tags)


class ConsentEvent(db.Model):
    """One change of a subscriber's consent, kept for their timeline."""

    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    status: Mapped[ConsentStatus] = mapped_column(String(20))
    source: Mapped[ConsentSource] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Segment(db.Model):
    """A saved audience: rules over tags, fields and engagement."""

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def address_hash(email: str) -> str:
    """Return the SHA-256 of a normalised address (how suppressions are keyed)."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


class Suppression(db.Model):
    """An address that no send path may use; kept as a hash after erasure."""

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(primary_key=True)
    address_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(320))  # cleared when a person is erased
    reason: Mapped[SuppressionReason] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ImportStatus(StrEnum):
    """Progress of a subscriber import."""

    DRAFT = "draft"  # uploaded in the UI, waiting for the column mapping to be confirmed
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class SubscriberImport(db.Model):
    """A CSV/vCard import, its progress and its report."""

    __tablename__ = "subscriber_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[ImportStatus] = mapped_column(String(20), default=ImportStatus.RUNNING)
    filename: Mapped[str] = mapped_column(String(300), default="")
    path: Mapped[str] = mapped_column(String(500), default="")  # the uploaded file, kept raw
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # tag, column mapping
    total_rows: Mapped[int] = mapped_column(default=0)
    processed_rows: Mapped[int] = mapped_column(default=0)
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class SubscriberNote(db.Model):
    """A private note a user keeps about a person (shown in their timeline)."""

    __tablename__ = "subscriber_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


Index("ix_subscribers_consent_status", Subscriber.consent_status)
# Keyset paging of the list sorted by name stays an index walk at 100k people.
Index("ix_subscribers_name", Subscriber.last_name, Subscriber.first_name, Subscriber.id)
