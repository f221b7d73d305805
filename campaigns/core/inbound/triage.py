"""What a user decides about inbound mail the pipeline could not file alone.

Unmatched replies are linked to a subscriber (and so filed) or dismissed; written
unsubscribe requests are confirmed (unsubscribe + suppression) or taken as a reply;
unverified bounces and complaints (they name no message of ours) are applied or dismissed;
messages whose processing failed can be dismissed or re-processed.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select, update
from sqlalchemy.orm.attributes import set_committed_value

from campaigns.core.inbound.filing import APPLIED, file_message, file_reply, report_deliveries
from campaigns.core.inbound.followups import note_effect
from campaigns.core.inbound.match import Match, latest_delivery
from campaigns.core.inbound.process import record_match
from campaigns.core.suppression import suppress
from campaigns.db import db
from campaigns.errors import Conflict, NotFound, ValidationError
from campaigns.mail.inbound.understand import Kind, understand
from campaigns.models import (
    ConsentEvent,
    ConsentSource,
    ConsentStatus,
    Delivery,
    FollowUp,
    InboundKind,
    InboundMessage,
    InboundStatus,
    MatchMethod,
    Subscriber,
    SuppressionReason,
)

TRIAGE_STATUSES = (InboundStatus.UNMATCHED, InboundStatus.TO_CONFIRM, InboundStatus.UNVERIFIED,
                   InboundStatus.NEEDS_REVIEW)


def triage_counts() -> dict[str, int]:
    """Return how many messages wait in each triage list."""
    rows = db.session.execute(select(InboundMessage.status, func.count())
                              .where(InboundMessage.status.in_(TRIAGE_STATUSES))
                              .group_by(InboundMessage.status))
    counts = {str(s): 0 for s in TRIAGE_STATUSES}
    counts.update({str(status): count for status, count in rows})
    return counts


def waiting(status: InboundStatus, limit: int = 100) -> list[InboundMessage]:
    """Return the messages of one triage list, newest first."""
    if status not in TRIAGE_STATUSES:
        raise ValidationError(f"{status} is not a triage list.")
    return list(db.session.scalars(
        select(InboundMessage).where(InboundMessage.status == status)
        .order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc()).limit(limit)))


def get_message(inbound_id: int) -> InboundMessage:
    """Return an inbound message or raise NotFound."""
    message = db.session.get(InboundMessage, inbound_id)
    if message is None:
        raise NotFound(f"There is no inbound message {inbound_id}.")
    return message


def link_to_subscriber(inbound_id: int, email: str, *, campaign_id: int | None = None,
                       create: bool = False) -> InboundMessage:
    """File an unmatched message as coming from a subscriber (added first if asked)."""
    message = _in_status(inbound_id, InboundStatus.UNMATCHED)
    subscriber = _subscriber_for(email, create=create, name=message.from_name)
    delivery = _delivery_for(subscriber.id, campaign_id)
    match = Match(MatchMethod.MANUAL, subscriber_id=subscriber.id,
                  campaign_id=delivery.campaign_id if delivery else campaign_id,
                  delivery_id=delivery.id if delivery else None)
    record_match(message, match)
    if message.kind == InboundKind.UNSUBSCRIBE:
        message.status = InboundStatus.TO_CONFIRM
    else:
        message.status = file_reply(message, match)
    db.session.flush()
    return message


def dismiss(inbound_id: int) -> InboundMessage:
    """Take a message off the triage lists without filing it."""
    message = get_message(inbound_id)
    if message.status not in TRIAGE_STATUSES or not _take(message, list(TRIAGE_STATUSES)):
        raise Conflict("Only messages waiting in triage can be dismissed.")
    message.status = InboundStatus.DISMISSED
    db.session.flush()
    return message


def confirm_unsubscribe(inbound_id: int) -> Subscriber:
    """Unsubscribe and suppress the subscriber who asked in writing to be removed."""
    message = _in_status(inbound_id, InboundStatus.TO_CONFIRM)
    subscriber = db.session.get(Subscriber, message.subscriber_id or 0)
    if subscriber is None:
        raise Conflict("This request is not tied to a subscriber any more.")
    detail = f"asked in a reply (inbound message {message.id})"
    subscriber.consent_status = ConsentStatus.UNSUBSCRIBED
    subscriber.consent_source = ConsentSource.REPLY
    db.session.add(ConsentEvent(subscriber_id=subscriber.id, status=ConsentStatus.UNSUBSCRIBED,
                                source=ConsentSource.REPLY, detail=detail))
    suppress(subscriber.email, SuppressionReason.UNSUBSCRIBED, detail=detail)
    message.status = InboundStatus.PROCESSED
    db.session.flush()
    return subscriber


def treat_as_reply(inbound_id: int) -> InboundMessage:
    """File a supposed unsubscribe request as the human reply it really is."""
    message = _in_status(inbound_id, InboundStatus.TO_CONFIRM)
    message.kind = InboundKind.HUMAN
    message.status = file_reply(message, stored_match(message))
    db.session.flush()
    return message


def apply_report(inbound_id: int, user_id: int | None = None) -> InboundMessage:
    """Act on an unverified bounce or complaint as a proven one: a user vouches for it.

    The decision is kept on the message, so processing it again does not undo it.
    """
    message = _in_status(inbound_id, InboundStatus.UNVERIFIED)
    raw = message.load_raw()
    understood = understand(raw) if raw is not None else None
    if understood is None or understood.kind not in (Kind.BOUNCE, Kind.COMPLAINT):
        raise Conflict("This message no longer reads as a bounce or complaint; process it "
                       "again or dismiss it.")
    note_effect(message, APPLIED, user_id or 0)
    message.status = file_message(message, understood, stored_match(message), trusted=True)
    db.session.flush()
    return message


def addresses_to_apply(message: InboundMessage) -> list[str]:
    """Return the addresses applying a stored report would act on (ours, latest first)."""
    details = message.details or {}
    report = details.get("bounce") or details.get("complaint") or {}
    recipients = tuple(str(a) for a in report.get("recipients") or [])[:50]
    return [d.email for d in report_deliveries(recipients, stored_match(message))]


def stored_match(message: InboundMessage) -> Match | None:
    """Rebuild the match recorded on a message."""
    if message.subscriber_id is None:
        return None
    followup = db.session.get(FollowUp, message.followup_id) if message.followup_id else None
    delivery = db.session.get(Delivery, message.delivery_id) if message.delivery_id else None
    campaign_id = followup.campaign_id if followup else (delivery.campaign_id if delivery
                                                         else None)
    return Match(message.match_method or MatchMethod.MANUAL, subscriber_id=message.subscriber_id,
                 campaign_id=campaign_id, delivery_id=message.delivery_id,
                 followup_id=message.followup_id)


def _in_status(inbound_id: int, status: InboundStatus) -> InboundMessage:
    """Return a message that must be in one status, or raise Conflict; take it out of that
    status at once, so that of two users deciding together exactly one goes on."""
    message = get_message(inbound_id)
    if message.status != status or not _take(message, [status]):
        raise Conflict(f"This message is {message.status.replace('_', ' ')}, "
                       f"not {status.replace('_', ' ')}: someone may have handled it already.")
    return message


def _take(message: InboundMessage, statuses: list[InboundStatus]) -> bool:
    """Move a message out of some statuses with a conditional UPDATE (the row stays locked
    until commit); tell whether it was still in one. Callers set the status it ends in."""
    taken = db.session.execute(
        update(InboundMessage).where(InboundMessage.id == message.id,
                                     InboundMessage.status.in_(statuses))
        .values(status=InboundStatus.PROCESSED)
        .execution_options(synchronize_session=False)).rowcount
    if taken:  # the row now says processed: any status a caller sets is written
        set_committed_value(message, "status", InboundStatus.PROCESSED)
    return bool(taken)


def _subscriber_for(email: str, *, create: bool, name: str) -> Subscriber:
    """Return the subscriber with an address, adding them when asked."""
    address = _normalised(email)
    subscriber = db.session.scalar(select(Subscriber).where(Subscriber.email == address))
    if subscriber is not None:
        return subscriber
    if not create:
        raise ValidationError(f"No subscriber has the address {address}. Tick “Add them to the "
                              "list” to add them.")
    first, _, last = name.strip().partition(" ")
    subscriber = Subscriber(email=address, first_name=first[:200], last_name=last[:200],
                            consent_source=ConsentSource.MANUAL)
    db.session.add(subscriber)
    db.session.flush()
    return subscriber


def _delivery_for(subscriber_id: int, campaign_id: int | None) -> Delivery | None:
    """Return the delivery of a campaign to a subscriber, or their latest one."""
    if campaign_id is None:
        return latest_delivery(subscriber_id)
    return db.session.scalar(select(Delivery).where(Delivery.subscriber_id == subscriber_id,
                                                    Delivery.campaign_id == campaign_id))


def _normalised(email: str) -> str:
    """Return an address as subscribers are stored, or raise ValidationError."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationError(f"Not a valid email address: {exc}") from exc
