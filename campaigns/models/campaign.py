"""Campaigns and their send ledger (one delivery per campaign and subscriber)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaigns.db import db, utcnow
from campaigns.models.audience import Subscriber


class CampaignKind(StrEnum):
    """The kind of conversation a campaign starts; each has a preset."""

    DISCUSSION_INVITE = "discussion_invite"
    VIRTUAL_COFFEE = "virtual_coffee"
    INTRODUCTION_REQUEST = "introduction_request"
    HOST_CONVERSATION = "host_conversation"
    CUSTOM = "custom"


class CampaignStatus(StrEnum):
    """Where a campaign is in its life."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    SENT = "sent"
    CANCELLED = "cancelled"


class ReplyMode(StrEnum):
    """Where replies go: a tracked reply+TOKEN address, or the sender's own mailbox."""

    TRACKED = "tracked"
    SENDER = "sender"


class Campaign(db.Model):
    """An invitation written once and sent to an audience, one personal email each."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[CampaignKind] = mapped_column(String(30), default=CampaignKind.CUSTOM)
    goal: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str] = mapped_column(String(500), default="")
    body_mjml: Mapped[str] = mapped_column(Text, default="")
    body_text: Mapped[str] = mapped_column(Text, default="")  # empty = generated from the HTML
    from_name: Mapped[str] = mapped_column(String(200), default="")
    from_email: Mapped[str] = mapped_column(String(320), default="")
    reply_mode: Mapped[ReplyMode] = mapped_column(String(20), default=ReplyMode.TRACKED)
    # {"tags": [...], "segment_id": int | None}; no tags and no segment = everyone.
    audience: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[CampaignStatus] = mapped_column(String(20), default=CampaignStatus.DRAFT,
                                                   index=True)
    scheduled_at: Mapped[datetime | None]  # UTC
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    rate_per_minute: Mapped[int] = mapped_column(default=0)  # 0 = the global default
    rate_per_hour: Mapped[int] = mapped_column(default=0)
    daily_conversation_cap: Mapped[int] = mapped_column(default=0)  # 0 = no pacing
    # The HTML compiled from MJML when sending starts, so edits never change a running send.
    compiled_html: Mapped[str | None] = mapped_column(Text)
    # The text part frozen with it (the written one, or the one generated from the HTML).
    compiled_text: Mapped[str | None] = mapped_column(Text)
    # Set once every ledger row exists; while null, the ledger is still being built in batches.
    ledger_built_at: Mapped[datetime | None]
    # When the last wave was released (pacing by daily conversation cap).
    last_wave_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class DeliveryState(StrEnum):
    """Ledger state of one email; see docs/architecture.md, invariant 2."""

    HELD = "held"  # waits for its wave (pacing by daily conversation cap)
    PENDING = "pending"
    SENDING = "sending"  # claimed and about to be handed to SMTP
    SENT = "sent"
    FAILED = "failed"
    UNCERTAIN = "uncertain"  # the SMTP server may or may not have taken it; never resent
    SKIPPED = "skipped"  # suppressed or unsubscribed between queueing and sending
    CANCELLED = "cancelled"


class Delivery(db.Model):
    """A ledger row: one campaign to one subscriber, the truth about that email."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("campaign_id", "subscriber_id"),
        # Claims walk a campaign's rows in id order from a hint and test the state in the row.
        # No index holds the state: a claim, the ``sending`` mark and ``sent`` then change no
        # indexed column, so on PostgreSQL they are HOT updates (no new index entries), and
        # pages keep room for them (fillfactor, set by migration 0003).
        Index("ix_deliveries_campaign_ledger", "campaign_id", "id"),
        {"postgresql_with": {"fillfactor": 60}},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscribers.id", ondelete="SET NULL"), index=True)
    email: Mapped[str] = mapped_column(String(320))  # the address at the time of sending
    state: Mapped[DeliveryState] = mapped_column(String(20), default=DeliveryState.PENDING)
    message_id: Mapped[str] = mapped_column(String(250), unique=True)
    reply_token: Mapped[str] = mapped_column(String(40), unique=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    claimed_by: Mapped[str | None] = mapped_column(String(64))  # batch id of the claiming worker
    claimed_at: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    bounced_at: Mapped[datetime | None]
    replied_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    campaign: Mapped[Campaign] = relationship()
    subscriber: Mapped[Subscriber | None] = relationship()


class SendQuota(db.Model):
    """Emails a sender used in one rate-limit window (the database limiter, without Redis)."""

    __tablename__ = "send_quotas"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)  # sender|period|window
    used: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime] = mapped_column(index=True)
