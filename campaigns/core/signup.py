"""Signup with double opt-in: the form records a request, the emailed link confirms it.

This is the only way onto the list again after unsubscribing, a complaint, a bounce or an
erasure: the person asks, then proves the mailbox is theirs. A manual suppression (a user's
decision) is never lifted this way.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import select

from campaigns import jobs
from campaigns.core.consent import record_consent
from campaigns.core.imports.plan import NAME_MAX, single_line
from campaigns.core.subscribers import add_tags, find_by_email, normalise_address
from campaigns.core.suppression import suppression_of
from campaigns.db import db, utcnow
from campaigns.errors import ValidationError
from campaigns.models import (
    ConsentEvent,
    ConsentSource,
    ConsentStatus,
    Subscriber,
    SuppressionReason,
    address_hash,
)

SEND_ACTOR = "subscribers.send_confirmation"
RESEND_AFTER = timedelta(minutes=10)  # at least this long between two confirmation emails
WEEKLY_CONFIRMATIONS = 3  # at most this many confirmation emails per address per week
SUPPRESSED_EVERY = timedelta(days=30)  # to a suppressed address: one per month at most
_CONFIRM_SALT = "campaigns.signup-confirm"
_FORM_SALT = "campaigns.signup-form"
_KEEP_SUPPRESSED = {SuppressionReason.MANUAL}


def _keys() -> list[str]:
    """Secret keys: the last signs, all verify (rotation)."""
    return [*current_app.config["SECRET_KEY_FALLBACKS"], current_app.config["SECRET_KEY"]]


def form_token(tag: str = "") -> str:
    """Return the signed value of a signup form's hidden field (which tag it adds)."""
    return URLSafeSerializer(_keys(), salt=_FORM_SALT).dumps(tag.strip())


def read_form_token(token: str) -> str:
    """Return the tag a signup form adds ("" for none or a tampered field)."""
    if not token:
        return ""
    try:
        return str(URLSafeSerializer(_keys(), salt=_FORM_SALT).loads(token))
    except BadSignature:
        return ""


def confirm_token(subscriber: Subscriber, tag: str = "") -> str:
    """Return the token of a confirmation link (bound to the address, valid for days)."""
    payload = [subscriber.id, address_hash(subscriber.email)[:16], tag]
    return URLSafeTimedSerializer(_keys(), salt=_CONFIRM_SALT).dumps(payload)


def confirm_url(subscriber: Subscriber, tag: str = "") -> str:
    """Return the absolute URL of a subscriber's confirmation page."""
    base = current_app.config["BASE_URL"].rstrip("/")
    return f"{base}/signup/confirm/{confirm_token(subscriber, tag)}"


def request_signup(email: str, *, first_name: str = "", last_name: str = "",
                   tag: str = "") -> int | None:
    """Record a signup and queue the confirmation email; return who it goes to, if anyone.

    The caller shows the same page whatever happens, so the form never tells a stranger who
    is on the list.
    """
    address = normalise_address(email)
    blocked = suppression_of(address)
    if blocked is not None and blocked.reason in _KEEP_SUPPRESSED:
        return None
    subscriber = find_by_email(address)
    if subscriber is not None and subscriber.consent_status == ConsentStatus.SUBSCRIBED \
            and blocked is None:
        return None  # already on the list
    if subscriber is None:
        subscriber = _pending_subscriber(address, first_name, last_name)
    elif _asked_too_often(subscriber, suppressed=blocked is not None):
        return None
    db.session.add(ConsentEvent(subscriber_id=subscriber.id, status=ConsentStatus.PENDING,
                                source=ConsentSource.SIGNUP,
                                detail="Signed up on the form; confirmation email sent"))
    jobs.enqueue(SEND_ACTOR, subscriber.id, tag, queue="default")
    db.session.flush()
    return subscriber.id


def _pending_subscriber(address: str, first_name: str, last_name: str) -> Subscriber:
    """Add someone who signed up and has not confirmed yet (never sent campaigns)."""
    subscriber = Subscriber(email=address, first_name=single_line(first_name)[:NAME_MAX],
                            last_name=single_line(last_name)[:NAME_MAX], fields={},
                            consent_status=ConsentStatus.PENDING,
                            consent_source=ConsentSource.SIGNUP)
    db.session.add(subscriber)
    db.session.flush()
    return subscriber


def _asked_too_often(subscriber: Subscriber, *, suppressed: bool) -> bool:
    """Tell whether one more confirmation email would mail-bomb this address.

    The form takes any address from anyone: confirmations are spaced (RESEND_AFTER),
    counted per week, and to an address that bounced or complained, sent once a month.
    """
    now = utcnow()
    window = SUPPRESSED_EVERY if suppressed else timedelta(days=7)
    sent = list(db.session.scalars(
        select(ConsentEvent.created_at).where(
            ConsentEvent.subscriber_id == subscriber.id,
            ConsentEvent.source == ConsentSource.SIGNUP,
            ConsentEvent.status == ConsentStatus.PENDING,
            ConsentEvent.created_at > now - window)
        .order_by(ConsentEvent.created_at.desc())))
    if suppressed:
        return bool(sent)
    return bool(sent) and (now - sent[0] < RESEND_AFTER or len(sent) >= WEEKLY_CONFIRMATIONS)


def awaits_confirmation(subscriber: Subscriber) -> bool:
    """Tell whether confirming would change anything for this person."""
    blocked = suppression_of(subscriber.email)
    if blocked is not None and blocked.reason in _KEEP_SUPPRESSED:
        return False
    return subscriber.consent_status != ConsentStatus.SUBSCRIBED or blocked is not None


def read_confirm_token(token: str) -> tuple[Subscriber, str]:
    """Return the subscriber and tag of a confirmation link, or raise ValidationError."""
    max_age = current_app.config["SIGNUP_CONFIRM_DAYS"] * 86400
    try:
        subscriber_id, digest, tag = URLSafeTimedSerializer(_keys(), salt=_CONFIRM_SALT) \
            .loads(token, max_age=max_age)
    except (BadSignature, ValueError, TypeError) as exc:
        raise ValidationError("This confirmation link is not valid or has expired. "
                              "Sign up again to get a new one.") from exc
    subscriber = db.session.get(Subscriber, int(subscriber_id))
    if subscriber is None or address_hash(subscriber.email)[:16] != digest:
        raise ValidationError("This confirmation link no longer matches a signup. "
                              "Sign up again to get a new one.")
    return subscriber, str(tag)


def confirm_signup(token: str) -> Subscriber:
    """Subscribe the person a confirmation link names, lifting their own suppression."""
    subscriber, tag = read_confirm_token(token)
    if not awaits_confirmation(subscriber):
        if subscriber.consent_status != ConsentStatus.SUBSCRIBED:
            raise ValidationError("This address cannot be subscribed.")
        return subscriber  # confirmed before: a second click changes nothing
    blocked = suppression_of(subscriber.email)
    if blocked is not None:
        db.session.delete(blocked)  # their own, proven request outweighs the old block
    record_consent(subscriber, ConsentStatus.SUBSCRIBED, ConsentSource.SIGNUP,
                   "Confirmed by email (double opt-in)")
    if tag:
        add_tags([subscriber.id], [tag])
    return subscriber


def unconfirmed_before(cutoff_days: int) -> list[int]:
    """Return ids of people who signed up, never confirmed and have nothing else on record."""
    cutoff = utcnow() - timedelta(days=cutoff_days)
    return list(db.session.scalars(select(Subscriber.id).where(
        Subscriber.consent_status == ConsentStatus.PENDING,
        Subscriber.consent_source == ConsentSource.SIGNUP,
        Subscriber.created_at < cutoff)))
