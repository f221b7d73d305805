"""Template filters and globals shared by every page."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from flask import Flask, request


def timeago(value: datetime | None, now: datetime | None = None) -> str:
    """Render a UTC timestamp as "3 min ago", "yesterday" or a date."""
    if value is None:
        return ""
    from campaigns.db import utcnow

    seconds = int(((now or utcnow()) - value).total_seconds())
    if seconds < 60:
        return "just now"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            count = seconds // size
            if unit == "d" and count > 6:
                return value.strftime("%-d %b %Y")
            return f"{count} {unit} ago"
    return value.strftime("%-d %b %Y")


# Blueprints whose pages belong to another navigation section.
_NAV_SECTION = {"results": "campaigns", "triage": "inbox", "messages": "inbox",
                "outbox": "outbox"}


def nav_active(section: str) -> str:
    """Return "active" when the current page is in this navigation section."""
    blueprint = request.blueprint or ""
    return "active" if _NAV_SECTION.get(blueprint, blueprint) == section else ""


def url_if(endpoint: str, **values: object) -> str | None:
    """Return the URL of an endpoint, or None when no such page exists (yet)."""
    from flask import current_app, url_for

    if endpoint not in current_app.view_functions:
        return None
    return url_for(endpoint, **values)


def attachments_of(message) -> list:  # noqa: ANN001 - an InboundMessage
    """List the attachments of an inbound message (empty when its raw bytes are gone)."""
    from campaigns.mail.inbound.attachments import list_attachments
    from campaigns.mail.inbound.parse import InboundParseError, MessageTooLarge

    raw = message.load_raw()
    if not raw:
        return []
    try:
        return list_attachments(raw)
    except (InboundParseError, MessageTooLarge):
        return []


def split_quote(text: str) -> tuple[str, str]:
    """Split a message into what was written and the quoted history below it."""
    from campaigns.mail.inbound.quotes import split_reply

    return split_reply(text)


def local_url(target: str | None, default: str) -> str:
    """Return target if it is a path on this site, else default (no open redirects).

    Used for every "go back to" value a request carries: ?next=, ?back=, a form's next
    field, the Referer header.
    """
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        host = urlsplit(request.host_url).netloc
        if parts.netloc != host or parts.scheme not in ("http", "https"):
            return default
        target = parts.path + (f"?{parts.query}" if parts.query else "")
    if not target.startswith("/") or target[1:2] in ("/", "\\"):
        return default
    return target


def register_template_helpers(app: Flask) -> None:
    """Make the helpers available in every template."""
    app.add_template_filter(timeago)
    app.add_template_global(nav_active)
    app.add_template_global(url_if)
    app.add_template_global(attachments_of)
    app.add_template_global(split_quote)
