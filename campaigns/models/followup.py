"""Follow-ups: the one-on-one conversation a human reply opens, its messages and notes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaigns.db import db, utcnow
from campaigns.models.audience import Subscriber
from campaigns.models.campaign import Campaign
from campaigns.models.inbound import InboundMessage


class FollowUpStatus(StrEnum):
    """Where a conversation stands."""

    OPEN = "open"
    SNOOZED = "snoozed"
    DONE = "done"


class Outcome(StrEnum):
    """How a conversation ended; campaigns may add custom outcomes as free text."""

    COFFEE_BOOKED = "coffee_booked"
    INTRODUCTION_MADE = "introduction_made"
    JOINED_DISCUSSION = "joined_discussion"
    NOT_NOW = "not_now"
    DECLINED = "declined"
    OTHER = "other"


class FollowUp(db.Model):
    """The one conversation with one subscriber about one campaign."""

    __tablename__ = "followups"
    __table_args__ = (
        UniqueConstraint("subscriber_id", "campaign_id"),
        Index("ix_followups_status_last_message", "status", "last_message_at"),
        Index("ix_followups_status_unread", "status", "unread"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), index=True)
    delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("deliveries.id", ondelete="SET NULL"))
    status: Mapped[FollowUpStatus] = mapped_column(String(20), default=FollowUpStatus.OPEN)
    snoozed_until: Mapped[datetime | None] = mapped_column(index=True)
    due_at: Mapped[datetime | None]
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)
    outcome: Mapped[str] = mapped_column(String(100), default="")  # an Outcome or custom text
    unread: Mapped[bool] = mapped_column(default=True)
    waiting_on: Mapped[str] = mapped_column(String(10), default="me")  # "me" or "them"
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]

    subscriber: Mapped[Subscriber] = relationship()
    campaign: Mapped[Campaign | None] = relationship()
    messages: Mapped[list[FollowUpMessage]] = relationship(
        back_populates="followup", order_by="FollowUpMessage.created_at",
        cascade="all, delete-orphan")
    notes: Mapped[list[FollowUpNote]] = relationship(
        back_populates="followup", order_by="FollowUpNote.created_at",
        cascade="all, delete-orphan")


class Direction(StrEnum):
    """Which way a conversation message went."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class FollowUpMessage(db.Model):
    """One message of a conversation: a reply we received or one we sent."""

    __tablename__ = "followup_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    followup_id: Mapped[int] = mapped_column(ForeignKey("followups.id", ondelete="CASCADE"),
                                             index=True)
    direction: Mapped[Direction] = mapped_column(String(10))
    inbound_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_messages.id", ondelete="SET NULL"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    subject: Mapped[str] = mapped_column(String(1000), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    # Outbound only: the same ledger states as a delivery (pending → sending → sent | ...).
    state: Mapped[str] = mapped_column(String(20), default="")
    message_id: Mapped[str] = mapped_column(String(250), default="", index=True)
    in_reply_to: Mapped[str] = mapped_column(String(250), default="")
    references: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    claimed_at: Mapped[datetime | None]  # outbound: when a worker last took it to send
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    followup: Mapped[FollowUp] = relationship(back_populates="messages")
    inbound_message: Mapped[InboundMessage | None] = relationship()


class FollowUpNote(db.Model):
    """A private note a user keeps on a conversation."""

    __tablename__ = "followup_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    followup_id: Mapped[int] = mapped_column(ForeignKey("followups.id", ondelete="CASCADE"),
                                             index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    followup: Mapped[FollowUp] = relationship(back_populates="notes")
