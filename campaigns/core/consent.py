"""Consent changes: unsubscribe (link, one-click, by hand), manual suppression, each recorded.

Re-subscribing is not here on purpose: only the person can do it, through the signup form's
double opt-in (campaigns.core.signup).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from campaigns.core.subscribers import normalise_address
from campaigns.core.suppression import suppress, suppression_of
from campaigns.core.unsubscribe_tokens import UnsubscribeClaim, read_token
from campaigns.db import db
from campaigns.errors import Conflict
from campaigns.models import (
    Campaign,
    ConsentEvent,
    ConsentSource,
    ConsentStatus,
    Subscriber,
    Suppression,
    SuppressionReason,
)


def record_consent(subscriber: Subscriber, status: ConsentStatus, source: ConsentSource,
                   detail: str = "") -> ConsentEvent:
    """Set a subscriber's consent and keep the change in their history."""
    subscriber.consent_status, subscriber.consent_source = status, source
    event = ConsentEvent(subscriber_id=subscriber.id, status=status, source=source,
                         detail=detail[:1000])
    db.session.add(event)
    db.session.flush()
    return event


def unsubscribe(subscriber: Subscriber, source: ConsentSource, detail: str = "") -> bool:
    """Unsubscribe and suppress a person (idempotent); tell whether anything changed."""
    changed = subscriber.consent_status != ConsentStatus.UNSUBSCRIBED
    if changed:
        record_consent(subscriber, ConsentStatus.UNSUBSCRIBED, source, detail)
    suppress(subscriber.email, SuppressionReason.UNSUBSCRIBED, detail)
    return changed


@dataclass(frozen=True)
class UnsubscribeResult:
    """What an unsubscribe link did: who (None if they are no longer on the list), and
    whether this request changed anything."""

    subscriber: Subscriber | None
    changed: bool


def subscriber_of_token(token: str) -> tuple[UnsubscribeClaim, Subscriber | None]:
    """Return what a signed unsubscribe link says and the person it names (None when they
    are gone, or the id now belongs to someone else); raise ValidationError when forged."""
    claim = read_token(token)
    subscriber = db.session.get(Subscriber, claim.subscriber_id)
    if subscriber is None or not claim.names(subscriber.email):
        return claim, None
    return claim, subscriber


def unsubscribe_by_token(token: str, *, one_click: bool) -> UnsubscribeResult:
    """Unsubscribe whoever a signed link names; raise ValidationError for a forged token."""
    claim, subscriber = subscriber_of_token(token)
    if subscriber is None:
        return UnsubscribeResult(None, False)
    source = ConsentSource.ONE_CLICK if one_click else ConsentSource.UNSUBSCRIBE_LINK
    changed = unsubscribe(subscriber, source, _link_detail(claim.campaign_id, one_click))
    return UnsubscribeResult(subscriber, changed)


def _link_detail(campaign_id: int, one_click: bool) -> str:
    """Describe where an unsubscribe came from, for the person's timeline."""
    how = "One-click unsubscribe from their mail app" if one_click else "Unsubscribe link"
    if not campaign_id:
        return how
    name = db.session.scalar(select(Campaign.name).where(Campaign.id == campaign_id))
    return f"{how} in “{name}”" if name else f"{how} in campaign #{campaign_id}"


def suppress_manually(subscriber: Subscriber, detail: str = "") -> Suppression:
    """Put a person on the suppression list by hand (a user's decision; a user can lift it)."""
    return suppress(subscriber.email, SuppressionReason.MANUAL, detail or "Suppressed by a user")


def suppress_address(email: str, detail: str = "") -> Suppression:
    """Put any address on the suppression list by hand, listed or not."""
    return suppress(normalise_address(email), SuppressionReason.MANUAL,
                    detail or "Suppressed by a user")


def suppressions_page(query: str = "", before_id: int | None = None,
                      limit: int = 100) -> list[Suppression]:
    """Return suppression entries, newest first, optionally matching part of an address."""
    statement = select(Suppression).order_by(Suppression.id.desc()).limit(limit)
    if query.strip():
        statement = statement.where(Suppression.email.ilike(f"%{query.strip()}%"))
    if before_id:
        statement = statement.where(Suppression.id < before_id)
    return list(db.session.scalars(statement))


def lift_suppression(entry: Suppression) -> None:
    """Remove a manual suppression; any other reason stays (Conflict)."""
    if entry.reason != SuppressionReason.MANUAL:
        raise Conflict("Only a manual suppression can be lifted. This address is suppressed "
                       "because of the person or their mailbox; only they can come back, "
                       "through the signup form.")
    db.session.delete(entry)
    db.session.flush()


def lift_manual_suppression(subscriber: Subscriber) -> None:
    """Remove a suppression a user added by hand; any other reason stays (Conflict)."""
    entry = suppression_of(subscriber.email)
    if entry is not None:
        lift_suppression(entry)
