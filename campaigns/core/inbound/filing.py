"""File an understood, matched inbound message where it belongs; return its new status.

* human reply → the one follow-up of (subscriber, campaign); unmatched → triage;
* out-of-office → its return date snoozes the person's open follow-ups; opens none;
* bounce → hard: the delivery is marked bounced and the address suppressed; soft: counted
  on the subscriber, suppressed at SOFT_BOUNCE_LIMIT;
* written unsubscribe request → the confirm list; complaint → suppressed.

A report (bounce or complaint) acts only on a delivery it proves it is about: it came back
to that delivery's token (``bounce+TOKEN@``/``reply+TOKEN@``) or it quotes that delivery's
Message-ID (random, seen only by the recipient's mail systems). Anyone can write a bounce
naming an address of the list; such a report waits as ``unverified`` in triage until a user
applies it. Everything here is idempotent: effects that are not naturally so (the
soft-bounce count) are recorded in ``details["filed"]``.
"""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import select

from campaigns.core.inbound import followups
from campaigns.core.inbound.claim import Claimed
from campaigns.core.inbound.effects import Effects, gathered
from campaigns.core.inbound.followups import Threads, filed_effects, note_effect
from campaigns.core.inbound.match import (
    Match,
    ReportDeliveries,
    id_forms,
    referenced_ids,
    report_of,
    usable,
)
from campaigns.db import db
from campaigns.mail.inbound.understand import Kind, Understanding
from campaigns.models import (
    Delivery,
    Direction,
    FollowUp,
    FollowUpMessage,
    InboundMessage,
    InboundStatus,
    MatchMethod,
    SuppressionReason,
)

# Filing reads and sets the same attributes on a loaded row (triage) and on the plain
# record a processing batch claims, which is written back with the batch.
Filed = InboundMessage | Claimed

FATAL_PARSE_ERRORS = ("rejected:", "parse failed:")
APPLIED = "applied_by"  # in details["filed"]: a user vouched for an unverified report


def file_messages(batch: list[tuple[Filed, Understanding, Match | None]]
                  ) -> list[InboundStatus]:
    """File a batch of messages: the follow-ups and report deliveries they need are loaded
    at once, and what they write is written at the end, one statement per kind."""
    threads = Threads(m.subscriber_id for _, _, m in batch if m and m.subscriber_id)
    threads.open_missing((m.subscriber_id, m.campaign_id, m.delivery_id) for _, u, m in batch
                         if u.kind is Kind.HUMAN and m and m.subscriber_id and not m.followup_id)
    reported = ReportDeliveries(a for _, u, _ in batch if (r := report_of(u))
                                for a in r.recipients)
    effects = Effects()
    statuses = [file_message(message, understood, match, threads, effects, reported)
                for message, understood, match in batch]
    effects.write()
    return statuses


def file_message(message: Filed, understood: Understanding, match: Match | None,
                 threads: Threads | None = None, effects: Effects | None = None,
                 reported: ReportDeliveries | None = None, *, trusted: bool = False
                 ) -> InboundStatus:
    """File a message by its kind and match; return the status it ends in.

    ``trusted`` is a user's word that a report is genuine though it proves nothing.
    """
    kind = understood.kind
    with gathered(effects) as effects:
        if kind is Kind.HUMAN:
            return file_reply(message, match, threads, effects)
        if kind is Kind.UNSUBSCRIBE:
            return InboundStatus.TO_CONFIRM if match and match.subscriber_id else \
                InboundStatus.UNMATCHED
        if kind is Kind.AUTO_REPLY:
            return file_auto_reply(message, understood, match, threads)
        if kind is Kind.BOUNCE and understood.bounce is not None:
            return file_bounce(message, understood, match, effects, reported, trusted=trusted)
        if kind is Kind.COMPLAINT and understood.complaint is not None:
            return file_complaint(message, understood, match, effects, reported,
                                  trusted=trusted)
    if any(e.startswith(FATAL_PARSE_ERRORS) for e in understood.parse_errors):
        return InboundStatus.NEEDS_REVIEW
    return InboundStatus.PROCESSED  # delivery notices and the like: nothing to do


def file_reply(message: Filed, match: Match | None, threads: Threads | None = None,
               effects: Effects | None = None) -> InboundStatus:
    """Open or continue the follow-up of a human reply; unmatched replies go to triage."""
    if match is None or match.subscriber_id is None:
        return InboundStatus.UNMATCHED
    threads = threads or Threads([match.subscriber_id])
    followup = (db.session.get(FollowUp, match.followup_id) if match.followup_id
                else threads.find_or_open(match.subscriber_id, match.campaign_id,
                                          match.delivery_id))
    with gathered(effects) as effects:
        followups.append_reply(followup, message, effects)
        followups.mark_replied(match.delivery_id or followup.delivery_id, message.received_at,
                               effects)
    message.followup_id = followup.id
    return InboundStatus.PROCESSED


def file_auto_reply(message: Filed, understood: Understanding, match: Match | None,
                    threads: Threads | None = None) -> InboundStatus:
    """Record an automatic reply; an out-of-office with a return date snoozes, never opens."""
    info = understood.auto_reply
    if match is None or match.subscriber_id is None or info is None or not info.return_date:
        return InboundStatus.PROCESSED
    back = datetime.combine(info.return_date, time())
    threads = threads or Threads([match.subscriber_id])
    snoozed = followups.snooze_until_back(threads.by_subscriber[match.subscriber_id], back)
    before = filed_effects(message).get("snoozed_followups", [])
    note_effect(message, "snoozed_followups", sorted({*before, *(f.id for f in snoozed)}))
    return InboundStatus.PROCESSED


def file_bounce(message: Filed, understood: Understanding, match: Match | None,
                effects: Effects, reported: ReportDeliveries | None = None, *,
                trusted: bool = False) -> InboundStatus:
    """Mark hard bounces and suppress; count soft bounces once per message."""
    bounce = understood.bounce
    if bounce.action == "delayed":
        return InboundStatus.PROCESSED  # still being retried: the final report will tell
    proven, unproven = report_targets(message, bounce.recipients, understood, match, reported,
                                      trusted)
    for delivery in proven:
        if bounce.type == "hard":
            effects.mark("bounced_at", delivery.id, message.received_at)
            effects.suppress(delivery.email, SuppressionReason.HARD_BOUNCE,
                             detail=f"{bounce.status} (inbound message {message.id})")
        else:
            _count_soft_bounce(message, delivery, effects)
    return InboundStatus.UNVERIFIED if unproven else InboundStatus.PROCESSED


def file_complaint(message: Filed, understood: Understanding, match: Match | None,
                   effects: Effects, reported: ReportDeliveries | None = None, *,
                   trusted: bool = False) -> InboundStatus:
    """Suppress the addresses a spam complaint is about."""
    proven, unproven = report_targets(message, understood.complaint.recipients, understood,
                                      match, reported, trusted)
    for delivery in proven:
        effects.suppress(delivery.email, SuppressionReason.COMPLAINT, detail=(
            f"{understood.complaint.feedback_type} (inbound message {message.id})"))
    return InboundStatus.UNVERIFIED if unproven else InboundStatus.PROCESSED


def report_targets(message: Filed, recipients: tuple[str, ...], understood: Understanding,
                   match: Match | None, reported: ReportDeliveries | None, trusted: bool
                   ) -> tuple[list[Delivery], bool]:
    """Return the deliveries a report may act on, and whether it names others it does not
    prove (the message then waits as unverified). A user's earlier "apply" is trust."""
    deliveries = report_deliveries(recipients, match, reported)
    if trusted or APPLIED in filed_effects(message):
        return deliveries, False
    proven = proven_deliveries(deliveries, understood, match)
    return proven, len(proven) < len(deliveries)


def report_deliveries(recipients: tuple[str, ...], match: Match | None,
                      reported: ReportDeliveries | None = None) -> list[Delivery]:
    """Return our deliveries a report is about: to its recipients, else the matched one."""
    matched = db.session.get(Delivery, match.delivery_id) if match and match.delivery_id \
        else None
    reported = reported or ReportDeliveries(recipients)
    found: dict[int, Delivery] = {}
    for address in usable(recipients):
        if matched is not None and matched.email.lower() == address.lower():
            found[matched.id] = matched
        elif (delivery := reported.latest_to(address)) is not None:
            found[delivery.id] = delivery
    if not found and matched is not None:
        found[matched.id] = matched  # e.g. a forwarding address bounced our mail to them
    return list(found.values())


def proven_deliveries(deliveries: list[Delivery], understood: Understanding,
                      match: Match | None) -> list[Delivery]:
    """Return the deliveries a report proves it is about: by their token or Message-ID, or
    (for the conversation's delivery) the Message-ID of a follow-up reply we sent."""
    # Our Message-IDs are random (96 bits) and our tokens too: only the recipient's mail
    # systems (and whoever they forward the email to) know them.
    quoted = set(referenced_ids(understood))
    vouched = match.delivery_id if match and (
        match.method is MatchMethod.TOKEN or _quotes_our_reply(match.followup_id, quoted)) \
        else None
    return [d for d in deliveries if d.id == vouched
            or _names_message(d.message_id, quoted, understood.text_body)]


def _names_message(message_id: str, quoted: set[str], text: str) -> bool:
    """Tell whether a report names one of our Message-IDs: in its headers or quoted parts,
    or anywhere in its text (many servers paste the returned headers inline)."""
    bare = message_id.strip("<>")
    return bool(bare) and (bare in quoted or bare in text)


def _quotes_our_reply(followup_id: int | None, quoted: set[str]) -> bool:
    """Tell whether some Message-IDs include one of a reply we sent in a conversation."""
    if followup_id is None or not quoted:
        return False
    forms = id_forms(quoted)
    return db.session.scalar(select(FollowUpMessage.id).where(
        FollowUpMessage.followup_id == followup_id,
        FollowUpMessage.direction == Direction.OUTBOUND,
        FollowUpMessage.message_id.in_(forms)).limit(1)) is not None


def _count_soft_bounce(message: Filed, delivery: Delivery, effects: Effects) -> None:
    """Add one soft bounce to the subscriber (once per message); suppress at the limit."""
    counted = filed_effects(message).get("soft_bounce_counted", [])
    if delivery.subscriber_id is None or delivery.subscriber_id in counted:
        return
    effects.count_soft_bounce(delivery.subscriber_id, delivery.email, message.id)
    note_effect(message, "soft_bounce_counted", [*counted, delivery.subscriber_id])
