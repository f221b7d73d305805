"""Privacy requests: export everything held about one person; erase them for good.

Erasing deletes the person and every record about them, scrubs their address from the
ledger and import reports, and keeps only the SHA-256 of the address on the suppression
list, so no later import, API call or form can add them back without their own double opt-in.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, or_, select, update

from campaigns.core.suppression import suppress, suppression_of
from campaigns.db import db, utcnow
from campaigns.models import (
    Campaign,
    ConsentEvent,
    Delivery,
    FollowUp,
    ImportStatus,
    InboundMessage,
    Subscriber,
    SubscriberImport,
    SubscriberNote,
    SuppressionReason,
)


def export_person(subscriber: Subscriber) -> dict[str, Any]:
    """Return everything held about one person, as JSON-ready data."""
    sid = subscriber.id
    return _plain({
        "exported_at": utcnow(),
        "subscriber": {c.key: getattr(subscriber, c.key)
                       for c in Subscriber.__table__.columns},
        "tags": subscriber.tag_names,
        "consent_events": _rows(select(ConsentEvent).where(ConsentEvent.subscriber_id == sid)
                                .order_by(ConsentEvent.created_at)),
        "suppression": _suppression(subscriber.email),
        "notes": _rows(select(SubscriberNote).where(SubscriberNote.subscriber_id == sid)
                       .order_by(SubscriberNote.created_at)),
        "deliveries": _deliveries(sid),
        "inbound_messages": _rows(select(InboundMessage).where(
            _inbound_of(subscriber)).order_by(InboundMessage.received_at),
            skip={"raw", "raw_path", "html"}),
        "conversations": _conversations(sid),
    })


def _rows(query: Any, skip: set[str] = frozenset()) -> list[dict[str, Any]]:
    """Return model rows as dictionaries of their columns."""
    return [{c.key: getattr(row, c.key) for c in type(row).__table__.columns
             if c.key not in skip} for row in db.session.scalars(query)]


def _suppression(email: str) -> dict[str, Any] | None:
    entry = suppression_of(email)
    return None if entry is None else {"reason": entry.reason, "detail": entry.detail,
                                       "created_at": entry.created_at}


def _deliveries(subscriber_id: int) -> list[dict[str, Any]]:
    rows = db.session.execute(select(Delivery, Campaign.name).select_from(Delivery)
                              .join(Campaign, Campaign.id == Delivery.campaign_id)
                              .where(Delivery.subscriber_id == subscriber_id)
                              .order_by(Delivery.created_at))
    return [{"campaign": name, "email": d.email, "state": d.state, "message_id": d.message_id,
             "sent_at": d.sent_at, "bounced_at": d.bounced_at, "replied_at": d.replied_at}
            for d, name in rows]


def _conversations(subscriber_id: int) -> list[dict[str, Any]]:
    result = []
    for followup in db.session.scalars(select(FollowUp).where(
            FollowUp.subscriber_id == subscriber_id).order_by(FollowUp.created_at)):
        result.append({
            "campaign": followup.campaign.name if followup.campaign else None,
            "status": followup.status, "outcome": followup.outcome,
            "created_at": followup.created_at, "closed_at": followup.closed_at,
            "messages": [{"direction": m.direction, "subject": m.subject, "text": m.text,
                          "created_at": m.created_at} for m in followup.messages],
            "notes": [{"body": n.body, "created_at": n.created_at} for n in followup.notes]})
    return result


def _inbound_of(subscriber: Subscriber) -> Any:
    return or_(InboundMessage.subscriber_id == subscriber.id,
               InboundMessage.from_email == subscriber.email)


def _plain(value: Any) -> Any:
    """Make data JSON-ready: timestamps as ISO 8601, enums as their values."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value) if hasattr(value, "value") else value


def erase_person(subscriber: Subscriber) -> list[Path]:
    """Erase a person; return files to delete once the transaction has committed."""
    email = subscriber.email
    files = _erase_inbound(subscriber)
    db.session.execute(update(Delivery).where(or_(Delivery.subscriber_id == subscriber.id,
                                                  Delivery.email == email))
                       .values(email="").execution_options(synchronize_session=False))
    files += _scrub_imports(email)
    _keep_hash_only(email)
    db.session.delete(subscriber)
    db.session.flush()
    return files


def _erase_inbound(subscriber: Subscriber) -> list[Path]:
    """Delete the person's inbound messages; return their raw files."""
    paths = [Path(p) for p in db.session.scalars(
        select(InboundMessage.raw_path).where(_inbound_of(subscriber))) if p]
    db.session.execute(delete(InboundMessage).where(_inbound_of(subscriber))
                       .execution_options(synchronize_session=False))
    return paths


def _scrub_imports(email: str) -> list[Path]:
    """Drop the address from import reports; return kept files of finished imports."""
    files = []
    for imp in db.session.scalars(select(SubscriberImport)):
        report = dict(imp.report or {})
        for key in ("errors", "duplicates", "suppressed"):
            if key in report:
                report[key] = [e for e in report[key] if (e.get("email") or "").lower() != email]
        imp.report = report
        if imp.status in (ImportStatus.DONE, ImportStatus.FAILED) and imp.path:
            files.append(Path(imp.path))
            imp.path = ""
    return files


def _keep_hash_only(email: str) -> None:
    """Leave the address on the suppression list as a hash only."""
    suppress(email, SuppressionReason.ERASED, "Erased at their request").email = None


def remove_files(paths: list[Path]) -> None:
    """Delete files left by an erasure (after the commit, so a rollback loses nothing)."""
    for path in paths:
        path.unlink(missing_ok=True)
