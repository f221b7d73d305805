"""Tie an understood inbound message to what we sent, in layers from surest to weakest.

1. a reply token in a recipient address (``reply+TOKEN@…``: To, Cc, Delivered-To,
   X-Original-To or the SMTP envelope) names one delivery;
2. In-Reply-To, References, or a report's original Message-ID name a delivery, or a
   message of a follow-up (ours or theirs) and so its thread;
3. the sender's address (for reports: the failed recipients) names a subscriber, whose latest
   delivery, else latest follow-up, is taken;
4. otherwise nothing: the message waits in triage.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select

from campaigns.db import db
from campaigns.mail.inbound.understand import Kind, Understanding
from campaigns.models import Delivery, FollowUp, FollowUpMessage, MatchMethod, Subscriber

_TOKEN_ADDRESS = re.compile(r"^reply\+([A-Za-z0-9_=.-]{4,60})@", re.I)
MAX_IDS = 30  # the newest References are enough; a hostile list must not make a huge IN ()


@dataclass(frozen=True)
class Match:
    """What an inbound message was tied to, and how."""

    method: MatchMethod
    subscriber_id: int | None = None
    campaign_id: int | None = None
    delivery_id: int | None = None
    followup_id: int | None = None


def match_message(understood: Understanding, envelope_to: Iterable[str] = ()) -> Match | None:
    """Return the surest match of an inbound message, or None when nothing fits."""
    addresses = [*envelope_to, *understood.recipient_addresses]
    return (by_token(addresses) or by_headers(usable(referenced_ids(understood)))
            or by_address(usable(sender_addresses(understood))))


def usable(values: Iterable[str]) -> list[str]:
    """Return the values a database can compare: no NUL, no undecodable bytes (surrogates)."""
    kept = []
    for value in values:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            continue  # raw 8-bit junk: it cannot equal anything we stored
        if "\x00" not in value:
            kept.append(value)
    return kept


def referenced_ids(understood: Understanding) -> list[str]:
    """Return the Message-IDs a message points at, most specific first, without brackets."""
    ids = [understood.in_reply_to, *reversed(understood.references)]
    for report in (understood.bounce, understood.complaint):
        if report is not None:
            ids.insert(0, report.original_message_id.strip("<> "))
    return list(dict.fromkeys(i for i in ids if i))[:MAX_IDS]


def sender_addresses(understood: Understanding) -> list[str]:
    """Return who a message is about: a report's recipients, else the sender."""
    if understood.kind is Kind.BOUNCE and understood.bounce is not None:
        return list(understood.bounce.recipients)
    if understood.kind is Kind.COMPLAINT and understood.complaint is not None:
        return list(understood.complaint.recipients)
    return [understood.from_address] if understood.from_address else []


def reply_tokens(addresses: Iterable[str]) -> list[str]:
    """Return the tokens of the reply+TOKEN@… addresses among some addresses."""
    found = (_TOKEN_ADDRESS.match(a.strip()) for a in addresses if a)
    return list(dict.fromkeys(m.group(1) for m in found if m))[:10]


def by_token(addresses: Iterable[str]) -> Match | None:
    """Match by the reply token of a tracked reply address."""
    tokens = reply_tokens(addresses)
    if not tokens:
        return None
    delivery = db.session.scalar(select(Delivery).where(Delivery.reply_token.in_(tokens)))
    if delivery is None:  # some mail systems lower-case local parts
        delivery = db.session.scalar(select(Delivery).where(
            func.lower(Delivery.reply_token).in_([t.lower() for t in tokens])))
    return _delivery_match(delivery, MatchMethod.TOKEN) if delivery else None


def by_headers(message_ids: list[str]) -> Match | None:
    """Match by the Message-IDs a message refers to: our deliveries or a follow-up's mail."""
    if not message_ids:
        return None
    forms = [f"<{i}>" for i in message_ids] + message_ids
    deliveries = {d.message_id.strip("<>"): d for d in db.session.scalars(
        select(Delivery).where(Delivery.message_id.in_(forms)))}
    threads = {m.message_id.strip("<>"): m.followup_id for m in db.session.scalars(
        select(FollowUpMessage).where(FollowUpMessage.message_id.in_(forms)))}
    for message_id in message_ids:
        if message_id in threads:
            return _followup_match(db.session.get(FollowUp, threads[message_id]))
        if message_id in deliveries:
            return _delivery_match(deliveries[message_id], MatchMethod.HEADERS)
    return None


def by_address(addresses: list[str]) -> Match | None:
    """Match by a subscriber's address: their latest delivery, else their latest follow-up."""
    for address in addresses:
        subscriber_id = db.session.scalar(
            select(Subscriber.id).where(Subscriber.email == address.strip().lower()))
        if subscriber_id is not None:
            return _subscriber_match(subscriber_id)
    return None


def latest_delivery(subscriber_id: int) -> Delivery | None:
    """Return the delivery most recently sent to a subscriber."""
    return db.session.scalar(
        select(Delivery).where(Delivery.subscriber_id == subscriber_id)
        .order_by(Delivery.sent_at.desc().nulls_last(), Delivery.id.desc()).limit(1))


def latest_delivery_to(address: str) -> Delivery | None:
    """Return the delivery most recently sent to an address (as it was at sending time)."""
    return db.session.scalar(
        select(Delivery).where(Delivery.email == address.strip().lower())
        .order_by(Delivery.sent_at.desc().nulls_last(), Delivery.id.desc()).limit(1))


def _subscriber_match(subscriber_id: int) -> Match:
    """Return the address-layer match of a known subscriber."""
    delivery = latest_delivery(subscriber_id)
    if delivery is not None:
        return _delivery_match(delivery, MatchMethod.ADDRESS)
    followup = db.session.scalar(
        select(FollowUp).where(FollowUp.subscriber_id == subscriber_id)
        .order_by(FollowUp.last_message_at.desc(), FollowUp.id.desc()).limit(1))
    if followup is not None:
        return _followup_match(followup, MatchMethod.ADDRESS)
    return Match(MatchMethod.ADDRESS, subscriber_id=subscriber_id)


def _delivery_match(delivery: Delivery, method: MatchMethod) -> Match:
    """Return a match on one delivery."""
    return Match(method, subscriber_id=delivery.subscriber_id, campaign_id=delivery.campaign_id,
                 delivery_id=delivery.id)


def _followup_match(followup: FollowUp, method: MatchMethod = MatchMethod.HEADERS) -> Match:
    """Return a match on one follow-up thread."""
    return Match(method, subscriber_id=followup.subscriber_id,
                 campaign_id=followup.campaign_id, delivery_id=followup.delivery_id,
                 followup_id=followup.id)
