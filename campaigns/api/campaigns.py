"""Campaigns in the JSON API: create, read, send, pause, resume, cancel, and the ledger."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import g, jsonify, request

from campaigns.api import bp
from campaigns.api.spec import documented
from campaigns.core import campaigns as verbs
from campaigns.core import composition, progress
from campaigns.core.presets import PRESETS
from campaigns.db import db
from campaigns.errors import ValidationError
from campaigns.models import Campaign, DeliveryState

STATE_COUNTS = {"type": "object", "additionalProperties": {"type": "integer"},
                "description": "Ledger rows by state: held, pending, sending, sent, failed, "
                               "uncertain, skipped, cancelled."}
CAMPAIGN_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "kind": {"type": "string"},
    "goal": {"type": "string"}, "subject": {"type": "string"},
    "body_mjml": {"type": "string"}, "body_text": {"type": "string"},
    "from_name": {"type": "string"}, "from_email": {"type": "string"},
    "reply_mode": {"type": "string", "enum": ["tracked", "sender"]},
    "audience": {"type": "object"}, "status": {"type": "string"},
    "scheduled_at": {"type": ["string", "null"]}, "timezone": {"type": "string"},
    "rate_per_minute": {"type": "integer"}, "rate_per_hour": {"type": "integer"},
    "daily_conversation_cap": {"type": "integer"}, "deliveries": STATE_COUNTS,
    "progress": {"type": "object"}}}
CAMPAIGN_BODY = {"type": "object", "required": ["name"], "properties": {
    name: CAMPAIGN_SCHEMA["properties"][name] for name in verbs.EDITABLE_FIELDS}}
DELIVERY_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "subscriber_id": {"type": ["integer", "null"]},
    "email": {"type": "string"}, "state": {"type": "string"},
    "message_id": {"type": "string"}, "attempts": {"type": "integer"},
    "last_error": {"type": "string"}, "sent_at": {"type": ["string", "null"]}}}


def campaign_dict(campaign: Campaign, *, full: bool = True,
                  counts: dict[str, int] | None = None) -> dict[str, Any]:
    """Return a campaign as the API shows it, with its ledger counts.

    A list passes the counts it read for all its campaigns in one query, and gets no
    progress (rate, ETA, pacing), which costs queries per campaign.
    """
    data: dict[str, Any] = {name: getattr(campaign, name) for name in verbs.EDITABLE_FIELDS}
    data.update(id=campaign.id, status=str(campaign.status), kind=str(campaign.kind),
                reply_mode=str(campaign.reply_mode),
                scheduled_at=_stamp(campaign.scheduled_at),
                started_at=_stamp(campaign.started_at),
                finished_at=_stamp(campaign.finished_at),
                created_at=_stamp(campaign.created_at))
    if counts is None:
        state = progress.progress(campaign)
        data["deliveries"] = state.counts
        data["progress"] = state.as_dict()
    else:
        data["deliveries"] = {str(s): counts.get(str(s), 0) for s in DeliveryState}
    if not full:
        data.pop("body_mjml"), data.pop("body_text")
    return data


def _stamp(value: datetime | None) -> str | None:
    return value.isoformat() + "Z" if value else None


def _body() -> dict[str, Any]:
    """Return the JSON object sent, or raise a clear error."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationError("Send a JSON object (Content-Type: application/json).")
    return data


@bp.post("/campaigns")
@documented(body=CAMPAIGN_BODY, response=CAMPAIGN_SCHEMA, status=201)
def create_campaign():
    """Create a draft campaign (a preset fills what you leave out)."""
    campaign = verbs.create(_body(), g.api_user)
    db.session.commit()
    return jsonify(campaign_dict(campaign)), 201


@bp.get("/campaigns")
@documented(response={"type": "object", "properties": {"campaigns": {
    "type": "array", "items": CAMPAIGN_SCHEMA}}}, query={"status": "only this status"})
def list_campaigns():
    """List campaigns, newest first."""
    query = db.select(Campaign).order_by(Campaign.id.desc())
    if request.args.get("status"):
        query = query.where(Campaign.status == request.args["status"])
    rows = list(db.session.scalars(query.limit(200)))
    counts = progress.counts_by_campaign([c.id for c in rows])
    return jsonify(campaigns=[campaign_dict(c, full=False, counts=counts[c.id]) for c in rows])


@bp.get("/campaigns/presets")
@documented(response={"type": "object"})
def list_presets():
    """List the campaign kinds with their preset subject and goal question."""
    return jsonify(presets=[{"kind": p.kind.value, "title": p.title, "summary": p.summary,
                             "subject": p.subject, "goal_prompt": p.goal_prompt}
                            for p in PRESETS.values()])


@bp.get("/campaigns/<int:campaign_id>")
@documented(response=CAMPAIGN_SCHEMA)
def get_campaign(campaign_id: int):
    """Return a campaign with its ledger counts by state and its progress."""
    return jsonify(campaign_dict(verbs.get(campaign_id)))


@bp.patch("/campaigns/<int:campaign_id>")
@documented(body={**CAMPAIGN_BODY, "required": []}, response=CAMPAIGN_SCHEMA)
def update_campaign(campaign_id: int):
    """Change a draft's fields."""
    campaign = verbs.update_draft(verbs.get(campaign_id), _body())
    db.session.commit()
    return jsonify(campaign_dict(campaign))


@bp.get("/campaigns/<int:campaign_id>/check")
@documented(response={"type": "object"}, query={"subscriber_id": "preview for this person"})
def check_campaign(campaign_id: int):
    """Render the draft for one person: subject, HTML, text, errors and warnings."""
    campaign = verbs.get(campaign_id)
    person = composition.preview_person(campaign, request.args.get("subscriber_id", type=int))
    checks, rendered = composition.checked_preview(campaign, person)
    body: dict[str, Any] = {"errors": [{"part": p.part, "line": p.line, "message": p.message}
                                       for p in checks.errors],
                            "warnings": checks.warnings, "audience_count": checks.audience_count}
    if rendered is not None:
        body.update(subject=rendered.subject, html=rendered.html, text=rendered.text)
    return jsonify(body)


def _action(campaign_id: int, verb) -> Any:  # noqa: ANN001 - a core verb
    """Apply a status verb and return the campaign."""
    campaign = verbs.get(campaign_id)
    verb(campaign)
    db.session.commit()
    return jsonify(campaign_dict(campaign, full=False)), 202


@bp.post("/campaigns/<int:campaign_id>/send")
@documented(response=CAMPAIGN_SCHEMA, status=202)
def send_campaign(campaign_id: int):
    """Start sending now (409 if it already started)."""
    return _action(campaign_id, verbs.start)


@bp.post("/campaigns/<int:campaign_id>/schedule")
@documented(body={"type": "object", "required": ["at"], "properties": {
    "at": {"type": "string", "description": "local date and time, e.g. 2030-05-01T09:30"},
    "timezone": {"type": "string", "description": "IANA zone, e.g. Europe/Paris"}}},
    response=CAMPAIGN_SCHEMA, status=202)
def schedule_campaign(campaign_id: int):
    """Schedule a draft for a local time in a time zone."""
    data = _body()
    try:
        local = datetime.fromisoformat(str(data.get("at", "")).replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValidationError("'at' is a date and time such as 2030-05-01T09:30.") from exc
    campaign = verbs.get(campaign_id)
    zone = data.get("timezone") or campaign.timezone
    if local.tzinfo is not None:  # an explicit offset names the moment: keep the zone's name
        local = local.astimezone(ZoneInfo(verbs.clean_timezone(zone))).replace(tzinfo=None)
    return _action(campaign_id, lambda c: verbs.schedule(c, local, zone))


@bp.post("/campaigns/<int:campaign_id>/pause")
@documented(response=CAMPAIGN_SCHEMA, status=202)
def pause_campaign(campaign_id: int):
    """Pause sending; the emails in flight finish."""
    return _action(campaign_id, verbs.pause)


@bp.post("/campaigns/<int:campaign_id>/resume")
@documented(response=CAMPAIGN_SCHEMA, status=202)
def resume_campaign(campaign_id: int):
    """Resume a paused campaign."""
    return _action(campaign_id, verbs.resume)


@bp.post("/campaigns/<int:campaign_id>/cancel")
@documented(response=CAMPAIGN_SCHEMA, status=202)
def cancel_campaign(campaign_id: int):
    """Cancel: every email not yet sent is cancelled."""
    return _action(campaign_id, verbs.cancel)


@bp.post("/campaigns/<int:campaign_id>/retry-failed")
@documented(response=CAMPAIGN_SCHEMA, status=202)
def retry_failed_campaign(campaign_id: int):
    """Send the failed emails again."""
    return _action(campaign_id, verbs.retry_failed)


@bp.post("/campaigns/<int:campaign_id>/test")
@documented(response={"type": "object"}, status=202,
            query={"subscriber_id": "render for this person"})
def test_campaign(campaign_id: int):
    """Send the draft to yourself, rendered for one person of the audience."""
    verbs.send_test(verbs.get(campaign_id), g.api_user,
                    request.args.get("subscriber_id", type=int))
    db.session.commit()
    return jsonify(queued=True, to=g.api_user.email), 202


@bp.get("/campaigns/<int:campaign_id>/deliveries")
@documented(response={"type": "object", "properties": {
    "deliveries": {"type": "array", "items": DELIVERY_SCHEMA},
    "next_after": {"type": ["integer", "null"]}}},
    query={"state": "only this ledger state", "q": "address contains",
           "after": "continue after this id", "limit": "rows per page (max 500)"})
def list_deliveries(campaign_id: int):
    """List the campaign's ledger: one row per person, filterable by state and address."""
    verbs.get(campaign_id)
    limit = min(max(request.args.get("limit", 100, type=int), 1), 500)
    rows, next_after = progress.deliveries(
        campaign_id, state=request.args.get("state") or None, query=request.args.get("q"),
        after=request.args.get("after", 0, type=int), limit=limit)
    return jsonify(deliveries=[progress.delivery_dict(r) for r in rows], next_after=next_after)
