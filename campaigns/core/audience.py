"""Who a campaign goes to: its tags or segment, minus the unsubscribed and the suppressed.

Every send path asks here: ``eligible_subscribers`` for a campaign's audience, ``can_receive``
for one person (test sends, follow-up replies, a row about to be sent).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, exists, func, select

from campaigns.core.segments import rules_condition
from campaigns.db import db
from campaigns.errors import NotFound
from campaigns.models import (
    ConsentStatus,
    Segment,
    Subscriber,
    Suppression,
    Tag,
    address_hash,
    subscriber_tags,
)


def eligible_subscribers(audience: dict[str, Any] | None) -> Select:
    """Return a SELECT of the subscribers an audience reaches.

    ``audience`` is ``{"tags": [...], "segment_id": N}``: people with any of the tags (any
    case) and matching the segment; no tags and no segment = everyone. Only subscribed people
    who are not suppressed are ever returned. A segment that no longer exists raises
    NotFound rather than widening the audience to everyone.
    """
    query = select(Subscriber).where(Subscriber.consent_status == ConsentStatus.SUBSCRIBED)
    tags = [str(t).strip().lower() for t in (audience or {}).get("tags") or [] if str(t).strip()]
    if tags:
        query = query.where(exists().where(
            subscriber_tags.c.subscriber_id == Subscriber.id,
            subscriber_tags.c.tag_id == Tag.id, func.lower(Tag.name).in_(tags)))
    segment_id = (audience or {}).get("segment_id")
    if segment_id:
        segment = db.session.get(Segment, int(segment_id))
        if segment is None:
            raise NotFound("The segment this audience uses no longer exists.")
        query = query.where(rules_condition(segment.rules))
    return query.where(~suppressed(Subscriber.email))


def suppressed(email_column: Any) -> Any:
    """SQL condition: the address is on the suppression list.

    This compares stored addresses; erased people are only a hash, but they have no subscriber
    row either. The send path checks hashes again per batch (suppression.suppressed_among).
    """
    return exists().where(Suppression.email == email_column)


def audience_count(audience: dict[str, Any] | None) -> int:
    """Return how many subscribers an audience reaches now."""
    inner = eligible_subscribers(audience).with_only_columns(Subscriber.id).subquery()
    return db.session.scalar(select(db.func.count()).select_from(inner)) or 0


def rules_count(rules: dict[str, Any] | None) -> int:
    """Return how many people a segment with these rules would reach now (the live count)."""
    query = select(func.count(Subscriber.id)).where(
        Subscriber.consent_status == ConsentStatus.SUBSCRIBED, rules_condition(rules),
        ~suppressed(Subscriber.email))
    return db.session.scalar(query) or 0


def can_receive(subscriber: Subscriber) -> bool:
    """Tell whether this one subscriber may be sent anything now."""
    if subscriber.consent_status != ConsentStatus.SUBSCRIBED:
        return False
    return db.session.scalar(select(Suppression.id).where(
        Suppression.address_hash == address_hash(subscriber.email))) is None
