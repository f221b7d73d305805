"""Signed, unforgeable unsubscribe tokens (itsdangerous), valid across secret key rotation."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from campaigns.errors import ValidationError

_SALT = "campaigns.unsubscribe"


@dataclass(frozen=True)
class UnsubscribeClaim:
    """Who a token unsubscribes, and from which campaign's email it came (0 = none)."""

    subscriber_id: int
    campaign_id: int


def _serializer() -> URLSafeSerializer:
    """Sign with SECRET_KEY; accept SECRET_KEY_FALLBACKS when reading."""
    keys = [*current_app.config["SECRET_KEY_FALLBACKS"], current_app.config["SECRET_KEY"]]
    return URLSafeSerializer(keys, salt=_SALT)  # the last key signs, all verify


def make_token(subscriber_id: int, campaign_id: int = 0) -> str:
    """Return the token for a subscriber's unsubscribe link."""
    return _serializer().dumps([subscriber_id, campaign_id])


def read_token(token: str) -> UnsubscribeClaim:
    """Return what a token claims, or raise ValidationError if it was forged or altered."""
    try:
        subscriber_id, campaign_id = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError) as exc:
        raise ValidationError("This unsubscribe link is not valid.") from exc
    return UnsubscribeClaim(int(subscriber_id), int(campaign_id))


def unsubscribe_url(subscriber_id: int, campaign_id: int = 0) -> str:
    """Return the absolute unsubscribe URL (also the RFC 8058 one-click POST target)."""
    base = current_app.config["BASE_URL"].rstrip("/")
    return f"{base}/unsubscribe/{make_token(subscriber_id, campaign_id)}"
