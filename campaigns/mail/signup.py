"""The signup confirmation email: small, plain text, built here (campaign mail has its own
composer)."""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr, formatdate, make_msgid
from urllib.parse import urlsplit

from flask import current_app, render_template

from campaigns.mail.backends import Envelope
from campaigns.models import Subscriber


def sender_domain() -> str:
    """Return the domain our own messages come from: SENDER_DOMAIN or BASE_URL's host."""
    return current_app.config["SENDER_DOMAIN"] or \
        urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"


def signup_sender() -> str:
    """Return the From address of signup confirmations."""
    return current_app.config["SIGNUP_FROM_EMAIL"] or f"noreply@{sender_domain()}"


def confirmation_envelope(subscriber: Subscriber, url: str) -> Envelope:
    """Build the confirmation email that carries a subscriber's double opt-in link."""
    sender = signup_sender()
    list_name = current_app.config["SIGNUP_FROM_NAME"] or sender_domain()
    message = EmailMessage(policy=SMTP)
    message["From"] = formataddr((current_app.config["SIGNUP_FROM_NAME"], sender))
    message["To"] = subscriber.email
    message["Subject"] = f"Confirm your subscription to {list_name}"
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender_domain())
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: auto-responders stay quiet
    # No name from the form in here: anyone can type anything and any address on the form,
    # so the email says nothing a stranger chose (it cannot be turned into their message).
    message.set_content(render_template(
        "email/signup_confirm.txt", url=url, list_name=list_name,
        days=current_app.config["SIGNUP_CONFIRM_DAYS"]))
    return Envelope(sender=sender, recipients=(subscriber.email,), data=message.as_bytes())
