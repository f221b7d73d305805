"""Small builders of rows for tests (they flush; the test decides when to commit)."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta

from campaigns.db import db, utcnow
from campaigns.models import (
    Campaign,
    CampaignKind,
    Delivery,
    DeliveryState,
    Direction,
    FollowUp,
    FollowUpMessage,
    Subscriber,
)

_counter = itertools.count(1)


def subscriber(email: str | None = None, **fields: object) -> Subscriber:
    """Add a subscriber."""
    n = next(_counter)
    fields.setdefault("first_name", f"Person{n}")
    row = Subscriber(email=email or f"person{n}@example.com", **fields)
    db.session.add(row)
    db.session.flush()
    return row


def campaign(name: str = "Coffee", kind: CampaignKind = CampaignKind.VIRTUAL_COFFEE,
             **fields: object) -> Campaign:
    """Add a campaign."""
    fields.setdefault("subject", "Coffee next week?")
    fields.setdefault("from_name", "Olive")
    fields.setdefault("from_email", "olive@example.com")
    fields.setdefault("goal", "Meet five people")
    row = Campaign(name=name, kind=kind, **fields)
    db.session.add(row)
    db.session.flush()
    return row


def delivery(campaign_row: Campaign, person: Subscriber,
             state: DeliveryState = DeliveryState.SENT) -> Delivery:
    """Add a ledger row for a person."""
    token = uuid.uuid4().hex[:16]
    row = Delivery(campaign_id=campaign_row.id, subscriber_id=person.id, email=person.email,
                   state=state, message_id=f"<{token}@campaigns.test>", reply_token=token,
                   sent_at=utcnow() if state == DeliveryState.SENT else None)
    db.session.add(row)
    db.session.flush()
    return row


def followup(person: Subscriber | None = None, campaign_row: Campaign | None = None,
             text: str = "Happy to chat!", minutes_ago: int = 0, **fields: object) -> FollowUp:
    """Add a conversation with one inbound message."""
    person = person or subscriber()
    at = utcnow() - timedelta(minutes=minutes_ago)
    row = FollowUp(subscriber=person, campaign=campaign_row, last_message_at=at, created_at=at,
                   **fields)
    db.session.add(row)
    db.session.flush()
    db.session.add(FollowUpMessage(followup=row, direction=Direction.INBOUND, text=text,
                                   created_at=at))
    db.session.flush()
    return row
