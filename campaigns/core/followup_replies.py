"""One-on-one replies from a conversation: written in the inbox, sent by the workers.

A reply is a FollowUpMessage (direction outbound) that carries the same ledger states as a
delivery: ``pending`` when written, ``sending`` once a worker claimed it (committed before
the SMTP transaction), then ``sent``, ``failed``, ``uncertain`` or ``skipped``. The claim is
a conditional update, so a redelivered job or a double click sends nothing twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from campaigns import jobs
from campaigns.core import audience
from campaigns.core.composition import message_domain, reply_domain, signer_from_settings
from campaigns.db import db, utcnow
from campaigns.errors import Forbidden, ValidationError
from campaigns.mail.backends import Envelope
from campaigns.mail.compose import build_reply
from campaigns.mail.headers import format_address, new_message_id
from campaigns.models import (
    Delivery,
    DeliveryState,
    Direction,
    FollowUp,
    FollowUpMessage,
    ReplyMode,
    User,
)

SEND_ACTOR = "followups.send_reply"
MAX_REPLY_LENGTH = 50_000


def write_reply(followup: FollowUp, author: User | None, text: str, *,
                quote: bool = True) -> FollowUpMessage:
    """Queue a reply to the person of a conversation; refuse if they may not be emailed."""
    text = text.strip()
    if not text:
        raise ValidationError("Write something before sending.")
    if len(text) > MAX_REPLY_LENGTH:
        raise ValidationError("That reply is too long for one email.")
    if not audience.can_receive(followup.subscriber):
        raise Forbidden(f"{followup.subscriber.email} has unsubscribed or is suppressed: "
                        "nothing can be sent to them.")
    answered = _last_inbound(followup)
    body = text + (_quoted(answered, followup) if quote and answered else "")
    message = FollowUpMessage(
        followup=followup, direction=Direction.OUTBOUND,
        author_id=author.id if author else None, subject=_subject(followup, answered),
        text=body, state=DeliveryState.PENDING, message_id=new_message_id(message_domain()),
        in_reply_to=answered.message_id if answered else "",
        references=_references(answered))
    db.session.add(message)
    followup.waiting_on = "them"
    followup.unread = False
    followup.last_message_at = utcnow()
    db.session.flush()
    jobs.enqueue(SEND_ACTOR, message.id, queue="outbound")
    return message


def _last_inbound(followup: FollowUp) -> FollowUpMessage | None:
    """Return the latest message the person sent in this conversation."""
    inbound = [m for m in followup.messages if m.direction == Direction.INBOUND]
    return inbound[-1] if inbound else None


def _subject(followup: FollowUp, answered: FollowUpMessage | None) -> str:
    """Return the subject of the reply: the person's, else the campaign's, with Re:."""
    subject = (answered.subject if answered else "") or \
        (followup.campaign.subject if followup.campaign else "") or "Our conversation"
    return subject if subject.lower().startswith("re:") else f"Re: {subject}"


def _quoted(answered: FollowUpMessage, followup: FollowUp) -> str:
    """Return the answered message quoted below the reply, as mail clients do."""
    when = answered.created_at.strftime("%a, %-d %b %Y at %H:%M")
    lines = "\n".join(f"> {line}" if line else ">" for line in answered.text.splitlines())
    return f"\n\nOn {when} UTC, {followup.subscriber.display_name} wrote:\n{lines}\n"


def _references(answered: FollowUpMessage | None) -> str:
    """Return the References of the reply: the answered message's chain and its id."""
    if answered is None:
        return ""
    chain = [*answered.references.split(), answered.message_id]
    return " ".join(dict.fromkeys(i for i in chain if i))[-2000:]


def claim(message_id: int) -> bool:
    """Mark a pending reply as being sent by this worker; False if it was not pending."""
    return db.session.execute(
        update(FollowUpMessage)
        .where(FollowUpMessage.id == message_id, FollowUpMessage.state == DeliveryState.PENDING)
        .values(state=DeliveryState.SENDING, attempts=FollowUpMessage.attempts + 1,
                claimed_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount == 1


def envelope_for(message: FollowUpMessage) -> Envelope:
    """Build the threaded email of a reply, from the campaign's sender."""
    followup = message.followup
    campaign = followup.campaign
    author = db.session.get(User, message.author_id) if message.author_id else None
    from_email = campaign.from_email if campaign and campaign.from_email else \
        (author.email if author else current_app.config.get("SIGNUP_FROM_EMAIL") or "")
    from_name = campaign.from_name if campaign else (author.display_name if author else "")
    person = followup.subscriber
    return build_reply(
        from_name=from_name, from_email=from_email, to_name=person.name, to_email=person.email,
        subject=message.subject, text=message.text, message_id=message.message_id,
        in_reply_to=message.in_reply_to, references=message.references.split(),
        reply_to=_tracked_reply_to(followup), dkim=signer_from_settings(current_app.config))


def _tracked_reply_to(followup: FollowUp) -> str | None:
    """Return reply+TOKEN@domain of the conversation's delivery when replies are tracked."""
    campaign = followup.campaign
    if campaign is None or campaign.reply_mode != ReplyMode.TRACKED:
        return None
    token = db.session.scalar(select(Delivery.reply_token).where(
        Delivery.id == followup.delivery_id)) if followup.delivery_id else None
    if token is None:
        token = db.session.scalar(select(Delivery.reply_token).where(
            Delivery.campaign_id == campaign.id,
            Delivery.subscriber_id == followup.subscriber_id))
    if token is None:
        return None
    return format_address(campaign.from_name, f"reply+{token}@{reply_domain(campaign)}")


def finish(message: FollowUpMessage, state: DeliveryState, error: str = "") -> None:
    """Record how sending a reply ended."""
    message.state = state
    message.last_error = error[:2000]
    if state == DeliveryState.SENT:
        message.sent_at = utcnow()


RETRY_HORIZON = timedelta(hours=1)  # the longest backoff between two attempts


def stale_replies(older_than: timedelta) -> tuple[list[int], int]:
    """Return pending replies to queue again, after settling sends that never finished.

    A reply left ``sending`` by a worker that died may have reached the server: it becomes
    ``uncertain`` and is never sent again automatically. A pending reply is queued again
    when its job was never run (a lost publish) or its retries stopped coming.
    """
    cutoff: datetime = utcnow() - older_than
    settled = db.session.execute(
        update(FollowUpMessage)
        .where(FollowUpMessage.state == DeliveryState.SENDING,
               FollowUpMessage.claimed_at < cutoff)
        .values(state=DeliveryState.UNCERTAIN,
                last_error="the worker stopped during sending; it may have been delivered")
        .execution_options(synchronize_session=False)).rowcount
    never_tried = (FollowUpMessage.claimed_at.is_(None)) & (FollowUpMessage.created_at < cutoff)
    given_up = FollowUpMessage.claimed_at < utcnow() - RETRY_HORIZON
    pending = list(db.session.scalars(select(FollowUpMessage.id).where(
        FollowUpMessage.direction == Direction.OUTBOUND,
        FollowUpMessage.state == DeliveryState.PENDING, never_tried | given_up)))
    return pending, settled
