"""Make subscribers and campaigns for tests, fast (one INSERT for many people)."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from typing import Any

from sqlalchemy import insert, select

from campaigns.core import campaigns as campaign_verbs
from campaigns.db import db, utcnow
from campaigns.models import Campaign, Subscriber, Tag, subscriber_tags

SIMPLE_BODY = """<mjml>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-text>
          <p>Hi {{ first_name | fallback("there") }},</p>
          <p>Coffee at {{ company }}?</p>
          <a href="{{ unsubscribe_url }}">Unsubscribe</a>
        </mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>
"""


def add_subscribers(count: int, *, prefix: str = "person", tag: str | None = None,
                    start: int = 0, **fields: Any) -> list[int]:
    """Insert ``count`` subscribers named prefix<n>@example.com; return their ids."""
    now = utcnow()
    rows = [{"email": f"{prefix}{n}@example.com", "first_name": fields.get("first_name",
                                                                            f"First{n}"),
             "last_name": fields.get("last_name", f"Last{n}"),
             "company": fields.get("company", f"Company {n}"),
             "fields": fields.get("fields", {}), "consent_status": "subscribed",
             "consent_source": "import", "soft_bounces": 0, "created_at": now,
             "updated_at": now} for n in range(start, start + count)]
    db.session.execute(insert(Subscriber), rows)
    ids = list(db.session.scalars(select(Subscriber.id).where(
        Subscriber.email.in_([r["email"] for r in rows])).order_by(Subscriber.id)))
    if tag:
        tag_row = db.session.scalar(select(Tag).where(Tag.name == tag)) or Tag(name=tag)
        db.session.add(tag_row)
        db.session.flush()
        db.session.execute(insert(subscriber_tags),
                           [{"subscriber_id": i, "tag_id": tag_row.id} for i in ids])
    db.session.commit()
    return ids


def make_campaign(**overrides: Any) -> Campaign:
    """Create a ready-to-send draft (committed)."""
    data = {"name": "Coffee", "kind": "virtual_coffee", "subject": "Coffee, {{ first_name }}?",
            "body_mjml": SIMPLE_BODY, "from_name": "Olive Owner",
            "from_email": "olive@example.com", "audience": {}, **overrides}
    campaign = campaign_verbs.create(data)
    db.session.commit()
    return campaign


def parse(data: bytes) -> EmailMessage:
    """Parse a received message with the modern policy."""
    return email.message_from_bytes(data, policy=email.policy.default)  # type: ignore[return-value]
