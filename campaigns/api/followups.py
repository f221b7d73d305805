"""Follow-ups over the API: list, read, update (status, snooze, assignee, outcome, notes)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import g, jsonify, request

from campaigns.api import bp
from campaigns.api.spec import documented
from campaigns.core import followup_replies, followups, inbox
from campaigns.db import db
from campaigns.errors import ValidationError
from campaigns.models import FollowUp, FollowUpStatus
from campaigns.values import parse_id

MESSAGE_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "direction": {"type": "string", "enum": ["inbound", "outbound"]},
    "text": {"type": "string"}, "state": {"type": "string"}, "created_at": {"type": "string"}}}
FOLLOWUP_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "status": {"type": "string", "enum": ["open", "snoozed", "done"]},
    "subscriber": {"type": "object"}, "campaign_id": {"type": ["integer", "null"]},
    "snoozed_until": {"type": ["string", "null"]}, "due_at": {"type": ["string", "null"]},
    "assignee_id": {"type": ["integer", "null"]}, "outcome": {"type": "string"},
    "unread": {"type": "boolean"}, "waiting_on": {"type": "string"},
    "last_message_at": {"type": "string"},
    "messages": {"type": "array", "items": MESSAGE_SCHEMA},
    "notes": {"type": "array", "items": {"type": "object"}}}}
PATCH_SCHEMA = {"type": "object", "properties": {
    "status": {"type": "string", "enum": ["open", "snoozed", "done"]},
    "snoozed_until": {"type": "string", "format": "date-time"},
    "due_at": {"type": ["string", "null"], "format": "date-time"},
    "assignee_id": {"type": ["integer", "null"]}, "outcome": {"type": "string"},
    "unread": {"type": "boolean"}, "note": {"type": "string", "description": "a note to add"}}}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() + "Z" if value else None


def serialize(f: FollowUp, *, full: bool = False) -> dict[str, Any]:
    """Return a follow-up as the API shows it."""
    data: dict[str, Any] = {
        "id": f.id, "status": f.status, "campaign_id": f.campaign_id,
        "subscriber": {"id": f.subscriber.id, "email": f.subscriber.email,
                       "name": f.subscriber.name, "company": f.subscriber.company},
        "snoozed_until": _iso(f.snoozed_until), "due_at": _iso(f.due_at),
        "assignee_id": f.assignee_id, "outcome": f.outcome, "unread": f.unread,
        "waiting_on": f.waiting_on, "last_message_at": _iso(f.last_message_at),
    }
    if full:
        data["messages"] = [{"id": m.id, "direction": m.direction, "text": m.text,
                             "state": m.state, "created_at": _iso(m.created_at)}
                            for m in f.messages]
        data["notes"] = [{"id": n.id, "body": n.body, "created_at": _iso(n.created_at)}
                         for n in f.notes]
    return data


@bp.get("/followups")
@documented(response={"type": "object", "properties": {
    "followups": {"type": "array", "items": FOLLOWUP_SCHEMA},
    "next": {"type": ["string", "null"]}}},
    query={"campaign": "campaign id", "status": "open | snoozed | done | all",
           "q": "search people and messages", "after": "cursor from the previous page"})
def list_followups():
    """List follow-ups, newest first, filtered by campaign and status."""
    args = request.args
    status = args.get("status", "open")
    if status not in inbox.VIEWS:
        raise ValidationError("status must be open, snoozed, done or all.")
    campaign = args.get("campaign", "")
    flt = inbox.InboxFilter(view=status, campaign_id=parse_id(campaign),
                            q=args.get("q", ""), after=_cursor(args.get("after", "")))
    rows, cursor = inbox.inbox_page(flt)
    next_cursor = f"{cursor[0].isoformat()}|{cursor[1]}" if cursor else None
    return jsonify(followups=[serialize(f) for f in rows], next=next_cursor)


def _cursor(raw: str) -> tuple[datetime, int] | None:
    """Read a paging cursor "ISO-TIME|ID"."""
    if not raw:
        return None
    try:
        at, _, last_id = raw.partition("|")
        return datetime.fromisoformat(at), int(last_id)
    except ValueError as exc:
        raise ValidationError("Not a valid cursor.") from exc


@bp.get("/followups/<int:followup_id>")
@documented(response=FOLLOWUP_SCHEMA)
def get_followup(followup_id: int):
    """Return one follow-up with its messages and notes."""
    return jsonify(serialize(followups.get_followup(followup_id), full=True))


@bp.patch("/followups/<int:followup_id>")
@documented(body=PATCH_SCHEMA, response=FOLLOWUP_SCHEMA)
def update_followup(followup_id: int):
    """Change status (with snoozed_until or outcome), due date, assignee, unread, or add a note."""
    f = followups.get_followup(followup_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError("Send a JSON object.")
    _apply(f, body)
    db.session.commit()
    return jsonify(serialize(f, full=True))


def _apply(f: FollowUp, body: dict[str, Any]) -> None:
    """Apply the fields of a PATCH body in a sensible order."""
    if "assignee_id" in body:
        followups.assign(f, body["assignee_id"])
    if "due_at" in body:
        followups.set_due(f, _when(body["due_at"]) if body["due_at"] else None)
    if "unread" in body:
        followups.mark_read(f, read=not bool(body["unread"]))
    if body.get("note"):
        followups.add_note(f, g.api_user, str(body["note"]))
    status = body.get("status")
    if status == FollowUpStatus.SNOOZED:
        followups.snooze(f, _when(body.get("snoozed_until")))
    elif status == FollowUpStatus.DONE:
        followups.finish(f, str(body.get("outcome", "")))
    elif status == FollowUpStatus.OPEN:
        followups.reopen(f)
    elif status is not None:
        raise ValidationError("status must be open, snoozed or done.")


def _when(value: Any) -> datetime:
    """Parse an ISO 8601 time given as UTC (a trailing Z is fine)."""
    try:
        parsed = datetime.fromisoformat(str(value).removesuffix("Z"))
    except ValueError as exc:
        raise ValidationError(f"Not an ISO 8601 time: {value!r}") from exc
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


REPLY_SCHEMA = {"type": "object", "required": ["text"], "properties": {
    "text": {"type": "string"},
    "quote": {"type": "boolean", "description": "quote their last message below (default)"}}}


@bp.post("/followups/<int:followup_id>/reply")
@documented(body=REPLY_SCHEMA, response=MESSAGE_SCHEMA, status=202)
def reply_to_followup(followup_id: int):
    """Send a one-on-one reply in the conversation (queued; its state shows progress)."""
    f = followups.get_followup(followup_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError("Send a JSON object with a text.")
    message = followup_replies.write_reply(f, g.api_user, str(body.get("text", "")),
                                           quote=bool(body.get("quote", True)))
    db.session.commit()
    return jsonify(id=message.id, direction=message.direction, text=message.text,
                   state=message.state, created_at=_iso(message.created_at)), 202
