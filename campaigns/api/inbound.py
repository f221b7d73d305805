"""The inbound webhook: POST one raw RFC 5322 message, get back the id it is stored under.

Authentication, any one of: ``X-Inbound-Token: <INBOUND_SECRET>``;
``X-Inbound-Signature: sha256=<hex HMAC-SHA256 of the body keyed with INBOUND_SECRET>``;
or ``Authorization: Bearer <API token>``. A replayed body is harmless: it deduplicates to the
message already stored, answered 200 with its id (a new message is answered 202).
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app, jsonify, request

from campaigns.api import bp, error_response, own_auth
from campaigns.api.spec import documented
from campaigns.core.inbound.store import store_raw
from campaigns.db import db
from campaigns.errors import MessageTooLarge
from campaigns.models import InboundMessage, ReceivedVia

STORED_SCHEMA = {"type": "object", "required": ["id", "duplicate", "status"], "properties": {
    "id": {"type": "integer", "description": "The inbound message id."},
    "duplicate": {"type": "boolean",
                  "description": "True (and HTTP 200) when this message was already stored."},
    "status": {"type": "string", "description": "stored, processed, unmatched, …"}}}
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


@bp.post("/inbound")
@own_auth
@documented(body={"type": "string", "format": "binary",
                  "description": "One raw RFC 5322 message."},
            content_type="message/rfc822", status=202, response=STORED_SCHEMA)
def receive_inbound():
    """Store one raw inbound message (inbound secret, HMAC signature or API token)."""
    if request.mimetype in FORM_TYPES:
        return error_response("unsupported_media_type", "Send the raw message as the request "
                              "body (Content-Type: message/rfc822), not as a form.", 415)
    token_ok = _token_ok()
    if not token_ok and not current_app.config["INBOUND_SECRET"]:
        return _unauthorized()
    raw = _read_body()
    if not (token_ok or _signature_ok(raw)):
        return _unauthorized()
    stored = store_raw(raw, ReceivedVia.WEBHOOK)
    db.session.commit()
    status = db.session.scalar(db.select(InboundMessage.status)
                               .where(InboundMessage.id == stored.id))
    return jsonify(id=stored.id, duplicate=not stored.created, status=status), \
        202 if stored.created else 200


def _read_body() -> bytes:
    """Read the body, refusing more than INBOUND_MAX_BYTES before and while reading it."""
    limit = current_app.config["INBOUND_MAX_BYTES"]
    if (request.content_length or 0) > limit:
        raise MessageTooLarge(f"The message is {request.content_length} bytes; "
                              f"the limit is {limit}.")
    raw = request.stream.read(limit + 1)
    if len(raw) > limit:
        raise MessageTooLarge(f"The message is over the limit of {limit} bytes.")
    return raw


def _token_ok() -> bool:
    """Tell whether the request carries the inbound secret or a valid API token."""
    secret = current_app.config["INBOUND_SECRET"]
    given = request.headers.get("X-Inbound-Token", "")
    if secret and given and hmac.compare_digest(given.encode(), secret.encode()):
        return True
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    from campaigns.core.users import user_for_token

    return user_for_token(token.strip()) is not None


def _signature_ok(raw: bytes) -> bool:
    """Tell whether X-Inbound-Signature is the HMAC-SHA256 of the body under the secret."""
    secret = current_app.config["INBOUND_SECRET"]
    given = request.headers.get("X-Inbound-Signature", "").strip().removeprefix("sha256=")
    if not secret or not given:
        return False
    expected = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(given.lower().encode(), expected.encode())


def _unauthorized():  # noqa: ANN202
    """Answer a request that proved nothing."""
    return error_response("unauthorized", "Send X-Inbound-Token, an X-Inbound-Signature "
                          "(sha256=HMAC of the body) or 'Authorization: Bearer TOKEN'.", 401)
