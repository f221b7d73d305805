"""A person's whole history, newest first: campaigns received, replies, conversations,
outcomes, notes and consent changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from campaigns.db import db
from campaigns.models import (
    Campaign,
    ConsentEvent,
    Delivery,
    Direction,
    FollowUp,
    FollowUpMessage,
    FollowUpNote,
    InboundMessage,
    InboundStatus,
    Subscriber,
    SubscriberNote,
    User,
)

PER_KIND = 200  # newest entries of each kind; a person's page stays quick


@dataclass(frozen=True)
class Entry:
    """One thing that happened with a person."""

    at: datetime
    kind: str  # consent, delivery, bounce, reply, conversation, outcome, message, note
    title: str
    detail: str = ""
    state: str = ""


def timeline(subscriber: Subscriber) -> list[Entry]:
    """Return everything that happened with this person, newest first."""
    entries = [*_consent(subscriber.id), *_deliveries(subscriber.id),
               *_inbound(subscriber.id), *_conversations(subscriber.id),
               *_conversation_messages(subscriber.id), *_notes(subscriber.id)]
    return sorted(entries, key=lambda e: e.at, reverse=True)


_CONSENT_TITLES = {"subscribed": "Subscribed", "pending": "Asked to join (waiting for "
                   "confirmation)", "unsubscribed": "Unsubscribed"}


def _consent(subscriber_id: int) -> list[Entry]:
    rows = db.session.scalars(select(ConsentEvent).where(
        ConsentEvent.subscriber_id == subscriber_id)
        .order_by(ConsentEvent.created_at.desc()).limit(PER_KIND))
    return [Entry(e.created_at, "consent",
                  f"{_CONSENT_TITLES.get(e.status, e.status)} ({str(e.source).replace('_', ' ')})",
                  e.detail, str(e.status)) for e in rows]


def _deliveries(subscriber_id: int) -> list[Entry]:
    rows = db.session.execute(select(Delivery, Campaign.name).select_from(Delivery).join(
        Campaign, Campaign.id == Delivery.campaign_id).where(
        Delivery.subscriber_id == subscriber_id)
        .order_by(Delivery.created_at.desc()).limit(PER_KIND))
    entries = []
    for delivery, name in rows:
        entries.append(Entry(delivery.sent_at or delivery.created_at, "delivery",
                             f"Campaign “{name}”", delivery.last_error, str(delivery.state)))
        if delivery.bounced_at:
            entries.append(Entry(delivery.bounced_at, "bounce", f"Bounced: “{name}”"))
    return entries


# A report nobody vouched for, or mail a user set aside, must not read as a settled fact.
_UNSETTLED = {InboundStatus.UNVERIFIED: " (unverified: nothing was changed)",
              InboundStatus.DISMISSED: " (dismissed)"}


def _inbound(subscriber_id: int) -> list[Entry]:
    rows = db.session.scalars(select(InboundMessage).where(
        InboundMessage.subscriber_id == subscriber_id)
        .order_by(InboundMessage.received_at.desc()).limit(PER_KIND))
    return [Entry(m.received_at, "reply", (m.subject or "(no subject)")
                  + _UNSETTLED.get(m.status, ""), m.new_text[:500], str(m.kind or ""))
            for m in rows]


def _conversations(subscriber_id: int) -> list[Entry]:
    rows = db.session.execute(select(FollowUp, Campaign.name).select_from(FollowUp).outerjoin(
        Campaign, Campaign.id == FollowUp.campaign_id).where(
        FollowUp.subscriber_id == subscriber_id)
        .order_by(FollowUp.created_at.desc()).limit(PER_KIND))
    entries = []
    for followup, name in rows:
        about = f"“{name}”" if name else "a direct message"
        entries.append(Entry(followup.created_at, "conversation",
                             f"Conversation about {about}", "", str(followup.status)))
        if followup.outcome:
            entries.append(Entry(followup.closed_at or followup.last_message_at, "outcome",
                                 f"Outcome: {followup.outcome.replace('_', ' ')}", about))
    return entries


def _conversation_messages(subscriber_id: int) -> list[Entry]:
    """Messages we sent in conversations and notes kept on them (replies come from inbound)."""
    sent = db.session.scalars(select(FollowUpMessage).join(
        FollowUp, FollowUp.id == FollowUpMessage.followup_id).where(
        FollowUp.subscriber_id == subscriber_id,
        FollowUpMessage.direction == Direction.OUTBOUND)
        .order_by(FollowUpMessage.created_at.desc()).limit(PER_KIND))
    notes = db.session.execute(select(FollowUpNote, User.name).select_from(FollowUpNote)
                               .join(FollowUp, FollowUp.id == FollowUpNote.followup_id)
                               .outerjoin(User, User.id == FollowUpNote.author_id)
                               .where(FollowUp.subscriber_id == subscriber_id)
                               .order_by(FollowUpNote.created_at.desc()).limit(PER_KIND))
    return [Entry(m.sent_at or m.created_at, "message", f"You wrote: {m.subject}", m.text[:500],
                  m.state) for m in sent] + \
        [Entry(n.created_at, "note", f"Note on a conversation{_by(author)}", n.body)
         for n, author in notes]


def _notes(subscriber_id: int) -> list[Entry]:
    rows = db.session.execute(select(SubscriberNote, User.name).select_from(SubscriberNote)
                              .outerjoin(User, User.id == SubscriberNote.author_id)
                              .where(SubscriberNote.subscriber_id == subscriber_id)
                              .order_by(SubscriberNote.created_at.desc()).limit(PER_KIND))
    return [Entry(n.created_at, "note", f"Note{_by(author)}", n.body) for n, author in rows]


def _by(author: str | None) -> str:
    return f" by {author}" if author else ""
