"""Inbound messages as received: the sanitised HTML in a sandboxed frame, attachments, raw.

The HTML is served from its own URL with its own Content-Security-Policy: no scripts,
no same-origin, nothing fetched from anywhere unless the user asked to show the images of
that one message. The page that frames it adds the iframe ``sandbox`` attribute as well.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, request
from werkzeug.http import quote_header_value

from campaigns.db import db
from campaigns.mail.inbound.attachments import attachment_content
from campaigns.mail.inbound.sanitize import sanitize_html
from campaigns.models import InboundMessage

bp = Blueprint("messages", __name__, url_prefix="/inbox/messages")

_BLOCKED_SRC = re.compile(r'\bdata-blocked-src="([^"]*)"')
FRAME_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:{images}; "
                "base-uri 'none'; form-action 'none'; frame-ancestors 'self'; "
                "sandbox allow-popups allow-popups-to-escape-sandbox")


def raw_bytes(message: InboundMessage) -> bytes:
    """Return the raw bytes of an inbound message, or answer 404 when they are gone."""
    raw = message.load_raw()
    if raw is None:
        abort(404)
    return raw


def _get(message_id: int) -> InboundMessage:
    return db.session.get(InboundMessage, message_id) or abort(404)


@bp.route("/<int:message_id>/html")
def html(message_id: int):
    """Serve the message's HTML, sanitised again, as an inert document for an iframe."""
    message = _get(message_id)
    images = request.args.get("images") == "1"
    body = sanitize_html(message.html or "")
    if images:
        body = _BLOCKED_SRC.sub(r'src="\1"', body)
    document = ('<!doctype html><html><head><meta charset="utf-8">'
                '<base target="_blank"><meta name="referrer" content="no-referrer">'
                f"</head><body>{body}</body></html>")
    return frame_response(document, images=images)


def frame_response(document: str, *, images: bool) -> Response:
    """Serve an HTML document for a sandboxed frame: no scripts, no forms, no referrer, not
    cached; remote images only when ``images``."""
    response = Response(document, mimetype="text/html")
    response.headers["Content-Security-Policy"] = FRAME_POLICY.format(
        images=" https: http:" if images else "")
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/<int:message_id>/attachments/<int:index>")
def attachment(message_id: int, index: int):
    """Download one attachment (never rendered inline)."""
    found = attachment_content(raw_bytes(_get(message_id)), index)
    if found is None:
        abort(404)
    info, data = found
    return _download(data, info.filename)


@bp.route("/<int:message_id>/raw")
def raw(message_id: int):
    """Download the message exactly as it was received."""
    return _download(raw_bytes(_get(message_id)), f"message-{message_id}.eml")


def _download(data: bytes, filename: str) -> Response:
    """Return bytes as a download that no browser will render or sniff."""
    response = Response(data, mimetype="application/octet-stream")
    response.headers["Content-Disposition"] = (
        f"attachment; filename={quote_header_value(filename.encode('ascii', 'replace').decode())}")
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
