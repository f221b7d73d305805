"""Tie understood inbound messages to what we sent, in layers from surest to weakest.

1. a token in a recipient address (``reply+TOKEN@…`` for replies, ``bounce+TOKEN@…`` for
   the bounces our Return-Path brings back; To, Cc, Delivered-To, X-Original-To or the SMTP
   envelope) names one delivery;
2. In-Reply-To, References, or a report's original Message-ID name a delivery, or a
   message of a follow-up (ours or theirs) and so its thread — or an earlier message of
   the same batch, which is then followed to wherever it was matched;
3. the sender's address (for reports: the failed recipients) names a subscriber, whose latest
   delivery, else latest follow-up, is taken;
4. otherwise nothing: the message waits in triage.

Matching works on a batch at once, with a fixed handful of queries per layer whatever the
batch size; one message is a batch of one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

from sqlalchemy import bindparam, func, select

from campaigns.db import db
from campaigns.mail.inbound.reports import BounceInfo, ComplaintInfo
from campaigns.mail.inbound.understand import Kind, Understanding, first_message_id
from campaigns.models import Delivery, FollowUp, FollowUpMessage, MatchMethod, Subscriber

_TOKEN_ADDRESS = re.compile(r"^(?:reply|bounce)\+([A-Za-z0-9_=.-]{4,60})@", re.I)
MAX_IDS = 30  # the newest References are enough; a hostile list must not make a huge IN ()
_LATEST = (Delivery.sent_at.desc().nulls_last(), Delivery.id.desc())


def _among(name: str):  # noqa: ANN202
    """Return the expanding parameter of an IN list, so that a statement is built once."""
    return bindparam(name, expanding=True)


# Built once: making and cache-keying a statement costs more than running it for one message.
_BY_TOKEN = select(Delivery).where(Delivery.reply_token.in_(_among("tokens")))
_BY_LOWERED_TOKEN = select(Delivery).where(func.lower(Delivery.reply_token).in_(_among("tokens")))
_BY_MESSAGE_ID = select(Delivery).where(Delivery.message_id.in_(_among("ids")))
_THREADS_BY_MESSAGE_ID = (select(FollowUpMessage.message_id, FollowUp)
                          .join(FollowUp, FollowUp.id == FollowUpMessage.followup_id)
                          .where(FollowUpMessage.message_id.in_(_among("ids"))))
_SUBSCRIBERS = select(Subscriber.email, Subscriber.id).where(Subscriber.email.in_(_among("emails")))
_FOLLOWUPS_LATEST_FIRST = (select(FollowUp).where(FollowUp.subscriber_id.in_(_among("ids")))
                           .order_by(FollowUp.last_message_at.desc(), FollowUp.id.desc()))


@dataclass(frozen=True)
class Match:
    """What an inbound message was tied to, and how."""

    method: MatchMethod
    subscriber_id: int | None = None
    campaign_id: int | None = None
    delivery_id: int | None = None
    followup_id: int | None = None
    # The loaded row, kept so that filing finds it in the session instead of reloading it.
    delivery: Delivery | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Item:
    """One message to match: what it says, and the SMTP envelope recipients if known."""

    understood: Understanding
    envelope_to: tuple[str, ...] = ()


def match_many(items: list[Item]) -> list[Match | None]:
    """Return the surest match of each message of a batch (None where nothing fits)."""
    found: list[Match | None] = [None] * len(items)
    _by_tokens(items, found)
    _by_headers(items, found)
    _by_addresses(items, found)
    return found


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
            ids.insert(0, first_message_id(report.original_message_id))
    return usable(list(dict.fromkeys(i for i in ids if i))[:MAX_IDS])


def id_forms(ids: Iterable[str]) -> list[str]:
    """Return bare Message-IDs as stored may hold them: with and without angle brackets."""
    ids = list(ids)
    return [f"<{m}>" for m in ids] + ids


def report_of(understood: Understanding) -> BounceInfo | ComplaintInfo | None:
    """Return the bounce or complaint a message of that kind carries (None for other mail)."""
    if understood.kind is Kind.BOUNCE:
        return understood.bounce
    if understood.kind is Kind.COMPLAINT:
        return understood.complaint
    return None


def sender_addresses(understood: Understanding) -> list[str]:
    """Return who a message is about: a report's recipients, else the sender."""
    report = report_of(understood)
    if report is not None:
        found = list(report.recipients)
    else:
        found = [understood.from_address] if understood.from_address else []
    return [a.strip().lower() for a in usable(found)]


def reply_tokens(addresses: Iterable[str]) -> list[str]:
    """Return the tokens of the reply+TOKEN@… and bounce+TOKEN@… addresses among some."""
    found = (_TOKEN_ADDRESS.match(a.strip()) for a in addresses if a)
    return list(dict.fromkeys(m.group(1) for m in found if m))[:10]


def _by_tokens(items: list[Item], found: list[Match | None]) -> None:
    """Layer 1: reply tokens, exactly, then case-insensitively (local parts get lowered)."""
    wanted = {i: reply_tokens([*item.envelope_to, *item.understood.recipient_addresses])
              for i, item in enumerate(items)}
    tokens = {t for ts in wanted.values() for t in ts}
    if not tokens:
        return
    exact = {d.reply_token: d for d in db.session.scalars(_BY_TOKEN, {"tokens": list(tokens)})}
    missing = {t.lower() for t in tokens if t not in exact}
    lowered = {d.reply_token.lower(): d for d in db.session.scalars(
        _BY_LOWERED_TOKEN, {"tokens": list(missing)})} if missing else {}
    for i, item_tokens in wanted.items():
        delivery = next((exact.get(t) or lowered.get(t.lower()) for t in item_tokens
                         if exact.get(t) or lowered.get(t.lower())), None)
        if delivery is not None:
            found[i] = _delivery_match(delivery, MatchMethod.TOKEN)


def _by_headers(items: list[Item], found: list[Match | None]) -> None:
    """Layer 2: Message-IDs of our deliveries, of follow-up mail, or of earlier batch mail."""
    wanted = {i: referenced_ids(item.understood) for i, item in enumerate(items)
              if found[i] is None}
    ids = {m for ms in wanted.values() for m in ms}
    if not ids:
        return
    forms = id_forms(ids)
    deliveries = {d.message_id.strip("<>"): d for d in db.session.scalars(
        _BY_MESSAGE_ID, {"ids": forms})}
    threads = _threads_of(forms)
    in_batch = {item.understood.message_id: i for i, item in enumerate(items)
                if item.understood.message_id}
    for i, message_ids in wanted.items():
        found[i] = next((m for m in (_header_match(mid, deliveries, threads, in_batch, found, i)
                                     for mid in message_ids) if m), None)


def _threads_of(forms: list[str]) -> dict[str, FollowUp]:
    """Return the follow-ups whose messages carry one of these Message-IDs, by Message-ID."""
    rows = db.session.execute(_THREADS_BY_MESSAGE_ID, {"ids": forms}).all()
    return {message_id.strip("<>"): followup for message_id, followup in rows}


def _header_match(message_id: str, deliveries: dict, threads: dict, in_batch: dict,
                  found: list[Match | None], index: int) -> Match | None:
    """Return the match one referenced Message-ID gives, if any."""
    if message_id in threads:
        return _followup_match(threads[message_id])
    if message_id in deliveries:
        return _delivery_match(deliveries[message_id], MatchMethod.HEADERS)
    earlier = in_batch.get(message_id)
    if earlier is not None and earlier < index and found[earlier] is not None:
        return _reuse(found[earlier], MatchMethod.HEADERS)
    return None


def _by_addresses(items: list[Item], found: list[Match | None]) -> None:
    """Layer 3: a subscriber's address → their latest delivery, else latest follow-up."""
    wanted = {i: sender_addresses(item.understood) for i, item in enumerate(items)
              if found[i] is None}
    addresses = {a for addrs in wanted.values() for a in addrs}
    if not addresses:
        return
    subscribers = dict(db.session.execute(_SUBSCRIBERS, {"emails": list(addresses)}).all())
    known = {subscribers[a] for a in addresses if a in subscribers}
    deliveries = _latest_deliveries(known)
    threads = _latest_followups(known - set(deliveries))
    for i, item_addresses in wanted.items():
        subscriber_id = next((subscribers[a] for a in item_addresses if a in subscribers), None)
        if subscriber_id is None:
            continue
        if subscriber_id in deliveries:
            found[i] = _delivery_match(deliveries[subscriber_id], MatchMethod.ADDRESS)
        elif subscriber_id in threads:
            found[i] = _followup_match(threads[subscriber_id], MatchMethod.ADDRESS)
        else:
            found[i] = Match(MatchMethod.ADDRESS, subscriber_id=subscriber_id)


def _latest_deliveries(subscriber_ids: set[int]) -> dict[int, Delivery]:
    """Return the most recent delivery of each subscriber."""
    return {d.subscriber_id: d for d in _latest_by("subscriber_id", subscriber_ids)}


def _latest_by(column_name: str, keys: set) -> list[Delivery]:
    """Return the most recent delivery for each value of a column (one query, one row each)."""
    if not keys:
        return []
    return list(db.session.scalars(_latest_statement(column_name), {"keys": list(keys)}))


@cache
def _latest_statement(column_name: str):  # noqa: ANN202
    """Return the query of the most recent delivery for each of some values of a column."""
    column = getattr(Delivery, column_name)
    ranked = (select(Delivery.id, func.row_number().over(partition_by=column, order_by=_LATEST)
                     .label("place")).where(column.in_(_among("keys"))).subquery())
    return select(Delivery).join(ranked, ranked.c.id == Delivery.id).where(ranked.c.place == 1)


def _latest_followups(subscriber_ids: set[int]) -> dict[int, FollowUp]:
    """Return the most recently active follow-up of each subscriber."""
    latest: dict[int, FollowUp] = {}
    if subscriber_ids:
        for followup in db.session.scalars(_FOLLOWUPS_LATEST_FIRST,
                                           {"ids": list(subscriber_ids)}):
            latest.setdefault(followup.subscriber_id, followup)
    return latest


def latest_delivery(subscriber_id: int) -> Delivery | None:
    """Return the delivery most recently sent to a subscriber."""
    return _latest_deliveries({subscriber_id}).get(subscriber_id)


class ReportDeliveries:
    """The latest delivery to each address the reports of a batch name, read with one query
    the first time any of them is needed (most reports match their own delivery)."""

    def __init__(self, addresses: Iterable[str] = ()) -> None:
        self._wanted = {a.strip().lower() for a in usable(addresses)}
        self._found: dict[str, Delivery] = {}
        self._looked_up: set[str] = set()

    def latest_to(self, address: str) -> Delivery | None:
        """Return the delivery most recently sent to an address (as it was at sending time)."""
        address = address.strip().lower()
        if address not in self._looked_up:
            wanted = (self._wanted | {address}) - self._looked_up
            self._found.update((d.email, d) for d in _latest_by("email", wanted))
            self._looked_up |= wanted
        return self._found.get(address)


def _delivery_match(delivery: Delivery, method: MatchMethod) -> Match:
    """Return a match on one delivery."""
    return Match(method, subscriber_id=delivery.subscriber_id, campaign_id=delivery.campaign_id,
                 delivery_id=delivery.id, delivery=delivery)


def _followup_match(followup: FollowUp, method: MatchMethod = MatchMethod.HEADERS) -> Match:
    """Return a match on one follow-up thread."""
    return Match(method, subscriber_id=followup.subscriber_id,
                 campaign_id=followup.campaign_id, delivery_id=followup.delivery_id,
                 followup_id=followup.id)


def _reuse(match: Match, method: MatchMethod) -> Match:
    """Return another message's match under a different method."""
    return Match(method, match.subscriber_id, match.campaign_id, match.delivery_id,
                 match.followup_id, match.delivery)
