"""Process stored messages: claim them, understand, match and file them as one batch.

The claim (claim.py) takes only messages still ``stored`` and locks them, so a message is
processed once however often its job is delivered. Nothing is committed here; the caller
(the ``inbound.process`` actor, or the CLI) commits, or on an error rolls back and calls
:func:`mark_needs_review`, so the raw message is never lost.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select, update

from campaigns import jobs
from campaigns.core.inbound.claim import Claimed, claim, write_back
from campaigns.core.inbound.filing import file_messages
from campaigns.core.inbound.match import Item, Match, id_forms, match_many, usable
from campaigns.core.inbound.store import PROCESS_ACTOR, load_raw
from campaigns.db import db, utcnow
from campaigns.mail.inbound.understand import Understanding, understand
from campaigns.models import Delivery, FollowUpMessage, InboundKind, InboundMessage, InboundStatus

MAX_TEXT = 1_000_000  # characters of text or HTML kept per field; the raw message keeps all
KEPT_DETAILS = ("envelope", "filed")  # survive re-processing
REPROCESS_BATCH = 50


def process_message(inbound_id: int) -> InboundStatus | None:
    """Understand, match and file one stored message; None when there was nothing to do."""
    return process_messages([inbound_id]).get(inbound_id)


def process_messages(inbound_ids: list[int], *, also_waiting: int = 0
                     ) -> dict[int, InboundStatus]:
    """Understand, match and file stored messages as one batch; return their statuses."""
    messages = claim(inbound_ids, also_waiting=also_waiting)
    understood = [understand(load_raw(message)) for message in messages]
    with db.session.no_autoflush:  # one flush at the end, not one per query
        for message, this in zip(messages, understood, strict=True):
            record_understanding(message, this)
        ours = our_own(understood)  # copies of mail we sent (Bcc, a Sent folder): not filed
        batch = [(m, u) for m, u in zip(messages, understood, strict=True)
                 if u.message_id not in ours]
        matches = match_many([Item(u, tuple(_envelope_to(m))) for m, u in batch])
        for (message, _), match in zip(batch, matches, strict=True):
            record_match(message, match)
        statuses = dict.fromkeys((m.id for m in messages), InboundStatus.PROCESSED)
        filed = file_messages([(m, u, match) for (m, u), match in zip(batch, matches,
                                                                     strict=True)])
        statuses.update((m.id, status) for (m, _), status in zip(batch, filed, strict=True))
        for message in messages:
            message.status, message.processed_at = statuses[message.id], utcnow()
    write_back(messages)
    db.session.flush()  # the follow-ups filing changed
    return statuses


def record_understanding(message: Claimed, understood: Understanding) -> None:
    """Copy what was understood onto the message row (display-safe, size-capped)."""
    message.kind = InboundKind(understood.kind.value)
    message.from_email = _text(understood.from_address.lower(), 320)
    message.from_name = _text(understood.from_name, 300)
    message.subject = _text(understood.subject, 1000)
    message.sent_at = _utc(understood.date)
    message.new_text = _text(understood.new_text, MAX_TEXT)
    message.quoted_text = _text(understood.quoted_text, MAX_TEXT)
    message.html = _text(understood.html, MAX_TEXT)
    message.parse_errors = _text("\n".join(understood.parse_errors), 10_000)
    auto = understood.auto_reply
    message.return_date = auto.return_date if auto else None
    kept = {k: v for k, v in (message.details or {}).items() if k in KEPT_DETAILS}
    message.details = {**kept, **_details(understood)}


def record_match(message: InboundMessage | Claimed, match: Match | None) -> None:
    """Copy a match onto the message row (or clear an old one)."""
    message.match_method = match.method if match else None
    message.delivery_id = match.delivery_id if match else None
    message.subscriber_id = match.subscriber_id if match else None
    message.followup_id = match.followup_id if match else None


def our_own(understood: list[Understanding]) -> set[str]:
    """Return the Message-IDs among these that we sent ourselves (they are in our ledger)."""
    domains = our_domains()
    candidates = {u.message_id for u in understood if u.message_id
                  and u.message_id.rpartition("@")[2].lower() in domains}
    candidates = set(usable(candidates))
    if not candidates:
        return set()
    forms = id_forms(candidates)
    found = db.session.scalars(
        select(Delivery.message_id).where(Delivery.message_id.in_(forms)).union(
            select(FollowUpMessage.message_id).where(FollowUpMessage.message_id.in_(forms),
                                                     FollowUpMessage.direction == "outbound")))
    return {m.strip("<>") for m in found}


def our_domains() -> set[str]:
    """Return the domains of the Message-IDs we create (SENDER_DOMAIN, else BASE_URL's host)."""
    config = current_app.config
    hosts = {config.get("SENDER_DOMAIN") or "", urlsplit(config["BASE_URL"]).hostname or ""}
    return {h.lower() for h in hosts if h}


def mark_needs_review(inbound_id: int, error: str) -> None:
    """Keep a message whose processing failed for a look, with the error."""
    db.session.execute(
        update(InboundMessage).where(InboundMessage.id == inbound_id)
        .values(status=InboundStatus.NEEDS_REVIEW, processed_at=utcnow(),
                parse_errors=_text(f"processing failed: {error}", 10_000))
        .execution_options(synchronize_session=False))


def reset_for_reprocessing(ids: list[int] | None = None, *, failed_only: bool = False
                           ) -> list[int]:
    """Set messages back to stored and enqueue them again; return their ids."""
    query = select(InboundMessage.id)
    if ids is not None:
        query = query.where(InboundMessage.id.in_(ids))
    if failed_only:
        query = query.where(InboundMessage.status == InboundStatus.NEEDS_REVIEW)
    found = list(db.session.scalars(query.order_by(InboundMessage.id)))
    if found:
        db.session.execute(update(InboundMessage).where(InboundMessage.id.in_(found))
                           .values(status=InboundStatus.STORED)
                           .execution_options(synchronize_session=False))
    for start in range(0, len(found), REPROCESS_BATCH):
        jobs.enqueue(PROCESS_ACTOR, *found[start:start + REPROCESS_BATCH], queue="inbound")
    return found


def _envelope_to(message: Claimed) -> list[str]:
    """Return the SMTP envelope recipients an intake recorded, if any."""
    envelope = (message.details or {}).get("envelope") or {}
    return [str(a) for a in envelope.get("rcpt_to", [])][:50]


def _details(understood: Understanding) -> dict[str, Any]:
    """Return the JSON details worth keeping: threading headers and report findings."""
    return _json_safe({
        "in_reply_to": understood.in_reply_to,
        "references": list(understood.references),
        "to": list(understood.recipient_addresses)[:50],
        "bounce": dataclasses.asdict(understood.bounce) if understood.bounce else None,
        "complaint": dataclasses.asdict(understood.complaint) if understood.complaint else None,
        "auto_reply": _auto_reply(understood),
    })


def _auto_reply(understood: Understanding) -> dict[str, Any] | None:
    """Return the auto-reply findings as JSON."""
    auto = understood.auto_reply
    if auto is None:
        return None
    return {"return_date": auto.return_date.isoformat() if auto.return_date else None,
            "out_of_office": auto.out_of_office, "signals": list(auto.signals)}


def _json_safe(value: Any) -> Any:
    """Return a JSON value with every string storable (no NUL, no lone surrogates)."""
    if isinstance(value, str):
        return _text(value, 10_000)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def _text(value: str, limit: int) -> str:
    """Return text that any database stores: no NUL, no lone surrogates, at most `limit`."""
    value = (value or "")[:limit].replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def _utc(moment: datetime | None) -> datetime | None:
    """Return a datetime as naive UTC, as every timestamp is stored."""
    if moment is None or moment.tzinfo is None:
        return moment
    try:
        return moment.astimezone(UTC).replace(tzinfo=None)
    except (OverflowError, ValueError):
        return None
