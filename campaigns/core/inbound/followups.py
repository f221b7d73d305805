"""Put a human reply into the one follow-up of its subscriber and campaign.

Every step is idempotent so that re-processing a message never duplicates anything: the
follow-up is found or created with ``INSERT ... ON CONFLICT DO NOTHING`` on its unique
(subscriber, campaign) pair, and a message is appended once per inbound message.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from campaigns.db import db, utcnow
from campaigns.models import (
    Delivery,
    Direction,
    FollowUp,
    FollowUpMessage,
    FollowUpStatus,
    InboundMessage,
)


def find_or_open_followup(subscriber_id: int, campaign_id: int | None,
                          delivery_id: int | None = None) -> FollowUp:
    """Return the follow-up of a subscriber and campaign, opening it if there is none."""
    existing = _find(subscriber_id, campaign_id)
    if existing is not None:
        return existing
    now = utcnow()
    values = {"subscriber_id": subscriber_id, "campaign_id": campaign_id,
              "delivery_id": delivery_id, "status": str(FollowUpStatus.OPEN),
              "last_message_at": now, "created_at": now}
    if campaign_id is None:  # NULLs never collide in the unique index: insert plainly
        db.session.execute(FollowUp.__table__.insert().values(values))
    else:
        dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
        db.session.execute(dialect.insert(FollowUp.__table__).values(values)
                           .on_conflict_do_nothing(index_elements=["subscriber_id",
                                                                   "campaign_id"]))
    return _find(subscriber_id, campaign_id)


def _find(subscriber_id: int, campaign_id: int | None) -> FollowUp | None:
    """Return the follow-up of a subscriber and campaign (or of no campaign)."""
    campaign = (FollowUp.campaign_id.is_(None) if campaign_id is None
                else FollowUp.campaign_id == campaign_id)
    return db.session.scalar(select(FollowUp).where(FollowUp.subscriber_id == subscriber_id,
                                                    campaign).order_by(FollowUp.id).limit(1))


def append_reply(followup: FollowUp, message: InboundMessage) -> FollowUpMessage:
    """Add an inbound message to a thread once and mark the thread as waiting on us."""
    existing = db.session.scalar(select(FollowUpMessage).where(
        FollowUpMessage.followup_id == followup.id,
        FollowUpMessage.inbound_message_id == message.id))
    if existing is not None:
        return existing
    details = message.details or {}
    reply = FollowUpMessage(
        followup_id=followup.id, direction=Direction.INBOUND, inbound_message_id=message.id,
        subject=message.subject, text=message.new_text,
        message_id=_bracketed(message.message_id)[:250],
        in_reply_to=_bracketed(details.get("in_reply_to", ""))[:250],
        references=" ".join(_bracketed(r) for r in details.get("references", [])),
        created_at=message.received_at)
    db.session.add(reply)
    _mark_waiting_on_us(followup, message.received_at)
    db.session.flush()
    return reply


def _mark_waiting_on_us(followup: FollowUp, at: datetime) -> None:
    """Show a thread as unread and ours to answer; a reply wakes a snoozed or done thread."""
    followup.unread = True
    followup.waiting_on = "me"
    followup.last_message_at = max(followup.last_message_at or at, at)
    if followup.status != FollowUpStatus.OPEN:
        followup.status = FollowUpStatus.OPEN
        followup.snoozed_until = None
        followup.closed_at = None


def mark_replied(delivery_id: int | None, at: datetime) -> None:
    """Record on the ledger row that its subscriber replied (the first reply's time)."""
    delivery = db.session.get(Delivery, delivery_id) if delivery_id else None
    if delivery is not None and delivery.replied_at is None:
        delivery.replied_at = at


def snooze_until_back(subscriber_id: int, back: datetime) -> list[FollowUp]:
    """Snooze a subscriber's open follow-ups until they are back; return those changed."""
    if back <= utcnow():
        return []
    changed = []
    for followup in db.session.scalars(select(FollowUp).where(
            FollowUp.subscriber_id == subscriber_id,
            FollowUp.status.in_([FollowUpStatus.OPEN, FollowUpStatus.SNOOZED]))):
        if followup.status == FollowUpStatus.SNOOZED and (followup.snoozed_until or back) >= back:
            continue  # already snoozed at least that long by someone
        followup.status = FollowUpStatus.SNOOZED
        followup.snoozed_until = back
        changed.append(followup)
    return changed


def _bracketed(message_id: str) -> str:
    """Return a Message-ID in the <…> form our ledger stores, '' for none."""
    value = (message_id or "").strip().strip("<>")
    return f"<{value}>" if value else ""
