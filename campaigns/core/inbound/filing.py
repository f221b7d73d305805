"""File an understood, matched inbound message where it belongs; return its new status.

* human reply → the one follow-up of (subscriber, campaign); unmatched → triage;
* out-of-office → its return date snoozes the person's open follow-ups; opens none;
* bounce → hard: the delivery is marked bounced and the address suppressed; soft: counted
  on the subscriber, suppressed at SOFT_BOUNCE_LIMIT;
* written unsubscribe request → the confirm list; complaint → suppressed.

A report only acts on addresses we actually sent to (a delivery exists), so a forged bounce
cannot suppress an arbitrary address. Everything here is idempotent: effects that are not
naturally so (the soft-bounce count) are recorded in ``details["filed"]``.
"""

from __future__ import annotations

from datetime import datetime, time

from campaigns.core.inbound import followups
from campaigns.core.inbound.claim import Claimed
from campaigns.core.inbound.effects import Effects, gathered
from campaigns.core.inbound.followups import Threads, filed_effects, note_effect
from campaigns.core.inbound.match import Match, ReportDeliveries, usable
from campaigns.db import db
from campaigns.mail.inbound.understand import Kind, Understanding
from campaigns.models import Delivery, FollowUp, InboundMessage, InboundStatus, SuppressionReason

# Filing reads and sets the same attributes on a loaded row (triage) and on the plain
# record a processing batch claims, which is written back with the batch.
Filed = InboundMessage | Claimed

FATAL_PARSE_ERRORS = ("rejected:", "parse failed:")


def file_messages(batch: list[tuple[Filed, Understanding, Match | None]]
                  ) -> list[InboundStatus]:
    """File a batch of messages: the follow-ups and report deliveries they need are loaded
    at once, and what they write is written at the end, one statement per kind."""
    threads = Threads(m.subscriber_id for _, _, m in batch if m and m.subscriber_id)
    threads.open_missing((m.subscriber_id, m.campaign_id, m.delivery_id) for _, u, m in batch
                         if u.kind is Kind.HUMAN and m and m.subscriber_id and not m.followup_id)
    reported = ReportDeliveries(a for _, u, _ in batch for a in _report_recipients(u))
    effects = Effects()
    statuses = [file_message(message, understood, match, threads, effects, reported)
                for message, understood, match in batch]
    effects.write()
    return statuses


def file_message(message: Filed, understood: Understanding, match: Match | None,
                 threads: Threads | None = None, effects: Effects | None = None,
                 reported: ReportDeliveries | None = None) -> InboundStatus:
    """File a message by its kind and match; return the status it ends in."""
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
            return file_bounce(message, understood, match, effects, reported)
        if kind is Kind.COMPLAINT and understood.complaint is not None:
            return file_complaint(message, understood, match, effects, reported)
    if any(e.startswith(FATAL_PARSE_ERRORS) for e in understood.parse_errors):
        return InboundStatus.NEEDS_REVIEW
    return InboundStatus.PROCESSED  # delay notices, delivery notices: nothing to do


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
                effects: Effects, reported: ReportDeliveries | None = None) -> InboundStatus:
    """Mark hard bounces and suppress; count soft bounces once per message."""
    bounce = understood.bounce
    if bounce.action == "delayed":
        return InboundStatus.PROCESSED  # still being retried: the final report will tell
    for delivery in report_deliveries(bounce.recipients, match, reported):
        if bounce.type == "hard":
            effects.mark("bounced_at", delivery.id, message.received_at)
            effects.suppress(delivery.email, SuppressionReason.HARD_BOUNCE,
                             detail=f"{bounce.status} (inbound message {message.id})")
        else:
            _count_soft_bounce(message, delivery, effects)
    return InboundStatus.PROCESSED


def file_complaint(message: Filed, understood: Understanding, match: Match | None,
                   effects: Effects, reported: ReportDeliveries | None = None) -> InboundStatus:
    """Suppress the addresses a spam complaint is about."""
    for delivery in report_deliveries(understood.complaint.recipients, match, reported):
        effects.suppress(delivery.email, SuppressionReason.COMPLAINT, detail=(
            f"{understood.complaint.feedback_type} (inbound message {message.id})"))
    return InboundStatus.PROCESSED


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


def _report_recipients(understood: Understanding) -> tuple[str, ...]:
    """Return the addresses a bounce or complaint is about (none for other mail)."""
    report = understood.bounce if understood.kind is Kind.BOUNCE else \
        understood.complaint if understood.kind is Kind.COMPLAINT else None
    return report.recipients if report is not None else ()


def _count_soft_bounce(message: Filed, delivery: Delivery, effects: Effects) -> None:
    """Add one soft bounce to the subscriber (once per message); suppress at the limit."""
    counted = filed_effects(message).get("soft_bounce_counted", [])
    if delivery.subscriber_id is None or delivery.subscriber_id in counted:
        return
    effects.count_soft_bounce(delivery.subscriber_id, delivery.email, message.id)
    note_effect(message, "soft_bounce_counted", [*counted, delivery.subscriber_id])
