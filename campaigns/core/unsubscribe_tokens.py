"""Signed, unforgeable unsubscribe tokens (itsdangerous), valid across secret key rotation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from itsdangerous.encoding import base64_encode

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


def url_maker() -> Callable[[int, int], str]:
    """Return a function making the same URLs as unsubscribe_url, fast, for a whole batch.

    itsdangerous derives the signing key and tries zlib on every call (~20 µs); the send path
    needs one URL per email, so the key is derived once, and the payload (two integers as
    compact JSON, which zlib never shortens) is written directly. A test holds the two equal.
    """
    serializer = _serializer()
    signer = serializer.make_signer(serializer.salt)
    key, sep, algorithm = signer.derive_key(), signer.sep, signer.algorithm
    base = current_app.config["BASE_URL"].rstrip("/")

    def make(subscriber_id: int, campaign_id: int = 0) -> str:
        payload = base64_encode(f"[{int(subscriber_id)},{int(campaign_id)}]".encode("ascii"))
        token = payload + sep + base64_encode(algorithm.get_signature(key, payload))
        return f"{base}/unsubscribe/{token.decode('ascii')}"

    return make
