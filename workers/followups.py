"""Follow-up work: send one-on-one replies, and bring snoozed conversations back."""

from __future__ import annotations

from datetime import timedelta

import dramatiq
from flask import current_app

from campaigns import jobs
from campaigns.core import audience, followup_replies, followups
from campaigns.db import db
from campaigns.errors import PermanentMailError, TransientMailError, UncertainDeliveryError
from campaigns.mail.backends import backend_for_app
from campaigns.models import DeliveryState, FollowUpMessage
from workers.sweeps import sweep


@dramatiq.actor(actor_name="followups.send_reply", queue_name="outbound", max_retries=8,
                min_backoff=15_000, max_backoff=3_600_000)
def send_reply(message_id: int) -> None:
    """Send one reply written in the inbox; a second delivery of this job sends nothing."""
    if not followup_replies.claim(message_id):
        return  # sent, being sent, or settled already
    db.session.commit()  # the "sending" mark is durable before the SMTP transaction
    message = db.session.get(FollowUpMessage, message_id)
    if not audience.can_receive(message.followup.subscriber):
        followup_replies.finish(message, DeliveryState.SKIPPED, "unsubscribed or suppressed")
        db.session.commit()
        return
    _deliver(message)


def _deliver(message: FollowUpMessage) -> None:
    """Hand the reply to the mail backend and record what happened."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        envelope = followup_replies.envelope_for(message)
    except ValueError as exc:  # e.g. an address no SMTP server without SMTPUTF8 takes
        followup_replies.finish(message, DeliveryState.FAILED, f"cannot be sent: {exc}")
        db.session.commit()
        return
    try:
        with backend_for_app(app) as backend:
            backend.send(envelope)
    except TransientMailError as exc:
        if message.attempts < current_app.config["SEND_MAX_ATTEMPTS"]:
            followup_replies.finish(message, DeliveryState.PENDING, exc.message)
            db.session.commit()
            raise  # Dramatiq retries with backoff
        followup_replies.finish(message, DeliveryState.FAILED, exc.message)
    except PermanentMailError as exc:
        followup_replies.finish(message, DeliveryState.FAILED, exc.message)
    except UncertainDeliveryError as exc:
        followup_replies.finish(message, DeliveryState.UNCERTAIN, exc.message)
    else:
        followup_replies.finish(message, DeliveryState.SENT)
    db.session.commit()


@sweep
def wake_snoozed_followups() -> None:
    """Reopen every snoozed conversation whose snooze has ended."""
    followups.wake_due()
    db.session.commit()


@sweep
def resume_followup_replies() -> None:
    """Queue again replies left pending too long; settle sends a dead worker left open."""
    stale = timedelta(seconds=current_app.config["SWEEP_STALE_AFTER"])
    pending, _ = followup_replies.stale_replies(stale)
    db.session.commit()
    for message_id in pending:
        jobs.publish_now(followup_replies.SEND_ACTOR, message_id, queue="outbound")
