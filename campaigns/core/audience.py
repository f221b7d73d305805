"""Who a campaign goes to: its tags or segment, minus the unsubscribed and the suppressed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, exists, select

from campaigns.db import db
from campaigns.models import (
    ConsentStatus,
    Subscriber,
    Suppression,
    Tag,
    address_hash,
    subscriber_tags,
)


def eligible_subscribers(audience: dict[str, Any] | None) -> Select:
    """Return a SELECT of the subscribers an audience reaches (no tags = everyone)."""
    query = select(Subscriber).where(Subscriber.consent_status == ConsentStatus.SUBSCRIBED)
    tags = [t for t in (audience or {}).get("tags") or [] if t]
    if tags:
        query = query.where(exists().where(
            subscriber_tags.c.subscriber_id == Subscriber.id,
            subscriber_tags.c.tag_id == Tag.id, Tag.name.in_(tags)))
    return query.where(~_suppressed(Subscriber.email))


def _suppressed(email_column: Any) -> Any:
    """SQL condition: the address is on the suppression list.

    This compares stored addresses; erased people are only a hash, but they have no subscriber
    row either. The send path checks hashes again per batch (suppression.suppressed_among).
    """
    return exists().where(Suppression.email == email_column)


def audience_count(audience: dict[str, Any] | None) -> int:
    """Return how many subscribers an audience reaches now."""
    inner = eligible_subscribers(audience).with_only_columns(Subscriber.id).subquery()
    return db.session.scalar(select(db.func.count()).select_from(inner)) or 0


def can_receive(subscriber: Subscriber) -> bool:
    """Tell whether this one subscriber may be sent anything now."""
    if subscriber.consent_status != ConsentStatus.SUBSCRIBED:
        return False
    return db.session.scalar(select(Suppression.id).where(
        Suppression.address_hash == address_hash(subscriber.email))) is None
