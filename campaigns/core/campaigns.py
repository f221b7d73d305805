"""Campaign verbs: create and edit drafts, schedule, start, pause, resume, cancel, retry."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import update

from campaigns import jobs
from campaigns.core import audience, composition, ledger, pacing, suppression
from campaigns.core.presets import preset_for
from campaigns.db import db, utcnow
from campaigns.errors import Conflict, Forbidden, NotFound, ValidationError
from campaigns.models import Campaign, CampaignStatus, DeliveryState, ReplyMode, User
from campaigns.values import parse_id

St = CampaignStatus
FIRST_LEDGER_BATCH = 1000


def _empty_audience() -> ValidationError:
    """Return the error for a campaign nobody would receive."""
    return ValidationError("The audience is empty: nobody would receive this campaign.")
EDITABLE_FIELDS = ("name", "kind", "goal", "subject", "body_mjml", "body_text", "from_name",
                   "from_email", "reply_mode", "audience", "timezone", "rate_per_minute",
                   "rate_per_hour", "daily_conversation_cap")
_LENGTHS = {"name": 200, "subject": 500, "from_name": 200, "from_email": 320, "goal": 5000,
            "body_mjml": 500_000, "body_text": 200_000}


def get(campaign_id: int) -> Campaign:
    """Return a campaign or raise NotFound."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"No campaign {campaign_id}.")
    return campaign


def create(data: dict[str, Any], user: User | None = None) -> Campaign:
    """Create a draft from a preset; the fields given override the preset's."""
    preset = preset_for(data.get("kind") or "custom")
    values = {"kind": preset.kind, "subject": preset.subject, "body_mjml": preset.body(),
              "from_name": user.display_name if user else "",
              "from_email": user.email if user else "", "audience": {}}
    campaign = Campaign(name="", created_by_id=user.id if user else None)
    _apply(campaign, {**values, **{k: v for k, v in data.items() if v is not None}})
    db.session.add(campaign)
    db.session.flush()
    return campaign


def update_draft(campaign: Campaign, data: dict[str, Any]) -> Campaign:
    """Change a draft's fields (only drafts can change: a started send is frozen)."""
    require_editable(campaign)
    _apply(campaign, data)
    db.session.flush()
    return campaign


def require_editable(campaign: Campaign) -> None:
    """Raise Conflict unless the campaign is a draft."""
    if campaign.status != St.DRAFT:
        raise Conflict(f"This campaign is {campaign.status}: only drafts can be edited.")


def delete_draft(campaign: Campaign) -> None:
    """Delete a draft (anything that started sending keeps its ledger)."""
    require_editable(campaign)
    db.session.delete(campaign)
    db.session.flush()


def _apply(campaign: Campaign, data: dict[str, Any]) -> None:
    """Validate and set the editable fields present in data."""
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown field(s): {', '.join(sorted(unknown))}.")
    for name, value in data.items():
        setattr(campaign, name, _clean(name, value))
    if not campaign.name.strip():
        raise ValidationError("Give the campaign a name.")


def _clean(name: str, value: Any) -> Any:
    """Return a field's value validated and normalised."""
    if name in _LENGTHS:
        text = "" if value is None else str(value).replace("\r\n", "\n").replace("\r", "\n")
        if len(text) > _LENGTHS[name]:
            raise ValidationError(f"{name} is longer than {_LENGTHS[name]} characters.")
        return _clean_email(text) if name == "from_email" else text
    if name == "kind":
        return preset_for(value).kind
    if name == "reply_mode":
        if value not in tuple(ReplyMode):
            raise ValidationError("reply_mode is 'tracked' or 'sender'.")
        return ReplyMode(value)
    if name == "audience":
        return _clean_audience(value)
    if name == "timezone":
        return clean_timezone(value)
    return _clean_count(name, value)


def _clean_email(text: str) -> str:
    """Return a normalised sender address (empty is allowed in a draft)."""
    if not text.strip():
        return ""
    try:
        return validate_email(text.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValidationError(f"The from address is not valid: {exc}") from exc


def _clean_audience(value: Any) -> dict[str, Any]:
    """Return {"tags": [...], "segment_id": int | None} from what was given."""
    if not isinstance(value, dict):
        raise ValidationError('audience is an object: {"tags": [...], "segment_id": N}.')
    tags = value.get("tags") or []
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",")]
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ValidationError("audience.tags is a list of tag names.")
    segment = value.get("segment_id")
    if segment not in (None, "") and parse_id(segment) is None:
        raise ValidationError("audience.segment_id is a segment id.")
    return {"tags": sorted({t.strip() for t in tags if t.strip()}),
            "segment_id": parse_id(segment)}


def clean_timezone(value: Any) -> str:
    """Return a valid IANA time zone name."""
    try:
        ZoneInfo(str(value or "UTC"))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"Unknown time zone {value!r}.") from exc
    return str(value or "UTC")


MAX_COUNT = 10_000_000  # per minute, per hour or per day: far above any real sending rate


def _clean_count(name: str, value: Any) -> int:
    """Return a non-negative whole number setting."""
    try:
        number = int(value or 0)
    except (TypeError, ValueError, OverflowError) as exc:  # OverflowError: JSON Infinity
        raise ValidationError(f"{name} is a whole number.") from exc
    if number < 0:
        raise ValidationError(f"{name} cannot be negative.")
    if number > MAX_COUNT:
        raise ValidationError(f"{name} is at most {MAX_COUNT:,}.")
    return number


def require_ready(campaign: Campaign, *, count_audience: bool = True
                  ) -> composition.render.CompiledBody:
    """Raise what stops the campaign from sending; return its compiled body."""
    if not campaign.from_email:
        raise ValidationError("Set the from address first.")
    body = composition.ensure_renderable(campaign)
    if count_audience and audience.audience_count(campaign.audience) == 0:
        raise _empty_audience()
    return body


def schedule(campaign: Campaign, local_time: datetime, timezone: str) -> Campaign:
    """Schedule a draft for a wall-clock time in a time zone (stored as UTC)."""
    require_editable(campaign)
    zone = clean_timezone(timezone)
    moment = local_time.replace(tzinfo=ZoneInfo(zone)).astimezone(ZoneInfo("UTC"))
    moment = moment.replace(tzinfo=None)
    if moment <= utcnow():
        raise ValidationError("That time has passed: pick a time in the future.")
    require_ready(campaign)
    campaign.timezone, campaign.scheduled_at, campaign.status = zone, moment, St.SCHEDULED
    db.session.flush()
    # No delayed broker message (it could wait months in a queue): the sweep, every
    # SWEEP_INTERVAL seconds, starts the scheduled campaigns whose time has come.
    return campaign


def unschedule(campaign: Campaign) -> Campaign:
    """Turn a scheduled campaign back into a draft."""
    _transition(campaign, (St.SCHEDULED,), St.DRAFT, "Only a scheduled campaign can be "
                                                     "unscheduled.")
    campaign.scheduled_at = None
    return campaign


def start(campaign: Campaign) -> int:
    """Send now: freeze the templates, create the first ledger rows; return how many."""
    if campaign.status not in (St.DRAFT, St.SCHEDULED):
        raise Conflict(f"This campaign is already {campaign.status}.")
    # No count of the audience here (a full scan on a big list): an empty first batch says it.
    body = require_ready(campaign, count_audience=False)
    now = utcnow()
    won = db.session.execute(
        update(Campaign).where(Campaign.id == campaign.id,
                               Campaign.status.in_([St.DRAFT, St.SCHEDULED]))
        .values(status=St.SENDING, started_at=now, compiled_html=body.html,
                compiled_text=body.text, ledger_built_at=None, updated_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if not won:  # a second click or another process got there first
        raise Conflict("This campaign is already sending.")
    db.session.refresh(campaign)
    # A small first batch, so the first emails leave within a second even for 100k people.
    first = min(FIRST_LEDGER_BATCH, current_app.config["LEDGER_BATCH_SIZE"])
    if campaign.daily_conversation_cap:
        first = max(first, pacing.wave_size(campaign))
    added, last, done = add_ledger_batch(campaign, 0, size=first)
    if not added:
        raise _empty_audience()  # the caller rolls back: the campaign stays as it was
    if not done:  # the rest is built by a worker while the first emails go out
        jobs.enqueue("outbound.extend_ledger", campaign.id, last, queue="default")
    return added


def add_ledger_batch(campaign: Campaign, after_subscriber_id: int, size: int | None = None
                     ) -> tuple[int, int, bool]:
    """Create the next keyset batch of ledger rows and queue their sending.

    Return the rows added, the last subscriber id and whether the ledger is now complete.
    """
    size = size or current_app.config["LEDGER_BATCH_SIZE"]
    added, last, id_range = ledger.add_rows(campaign, after_subscriber_id, size,
                                            pacing.initial_state(campaign),
                                            composition.message_domain())
    done = added < size
    if done:
        campaign.ledger_built_at = utcnow()
    if campaign.daily_conversation_cap:
        enqueue_batches(campaign, pacing.release_wave(campaign))
    else:
        enqueue_batches(campaign, added, id_range)
    db.session.flush()
    return added, last, done


def enqueue_batches(campaign: Campaign, rows: int, id_range: tuple[int, int] = (0, 0)) -> int:
    """Queue one send_batch message per SEND_BATCH_SIZE rows; return how many.

    ``id_range``, the first and last delivery ids of the rows, tells claims where to look.
    """
    if rows <= 0 or campaign.status != St.SENDING:
        return 0
    messages = math.ceil(rows / current_app.config["SEND_BATCH_SIZE"])
    for _ in range(messages):
        jobs.enqueue("outbound.send_batch", campaign.id, *id_range, queue="outbound")
    return messages


def pause(campaign: Campaign) -> Campaign:
    """Stop sending after the emails in flight; nothing is lost."""
    return _transition(campaign, (St.SENDING,), St.PAUSED, "Only a sending campaign can be "
                                                           "paused.")


def resume(campaign: Campaign) -> Campaign:
    """Carry on sending a paused campaign."""
    _transition(campaign, (St.PAUSED,), St.SENDING, "Only a paused campaign can be resumed.")
    _requeue(campaign)
    return campaign


def cancel(campaign: Campaign) -> int:
    """Stop for good: every email not yet sent is cancelled; return how many."""
    _transition(campaign, (St.SCHEDULED, St.SENDING, St.PAUSED), St.CANCELLED,
                "Only a scheduled, sending or paused campaign can be cancelled.")
    campaign.finished_at = utcnow()
    return ledger.reopen(campaign.id, (DeliveryState.PENDING, DeliveryState.HELD),
                         DeliveryState.CANCELLED)


def retry_failed(campaign: Campaign) -> int:
    """Send the failed emails again (after fixing the cause); return how many."""
    if campaign.status not in (St.SENDING, St.PAUSED, St.SENT):
        raise Conflict("Only a campaign that has sent can retry its failed emails.")
    count = ledger.reopen(campaign.id, (DeliveryState.FAILED,), DeliveryState.PENDING)
    if count and campaign.status == St.SENT:
        campaign.status, campaign.finished_at = St.SENDING, None
    db.session.flush()
    enqueue_batches(campaign, count)
    return count


def _requeue(campaign: Campaign) -> None:
    """Queue messages for every ready row, and the rest of the ledger if unfinished."""
    if campaign.ledger_built_at is None:
        jobs.enqueue("outbound.extend_ledger", campaign.id,
                     ledger.last_subscriber_id(campaign.id), queue="default")
    enqueue_batches(campaign, ledger.ready_rows(campaign.id))


def _transition(campaign: Campaign, allowed: tuple[CampaignStatus, ...],
                to: CampaignStatus, refusal: str) -> Campaign:
    """Change the status only from an allowed one (checked in the database)."""
    changed = db.session.execute(
        update(Campaign).where(Campaign.id == campaign.id, Campaign.status.in_(allowed))
        .values(status=to, updated_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    if not changed:
        raise Conflict(f"{refusal} This one is {campaign.status}.")
    db.session.refresh(campaign)
    return campaign


def finish_if_done(campaign: Campaign) -> bool:
    """Mark a sending campaign sent once its ledger is complete and nothing is open."""
    if campaign.status != St.SENDING or campaign.ledger_built_at is None:
        return False
    if ledger.has_open_rows(campaign.id):
        return False
    campaign.status, campaign.finished_at = St.SENT, utcnow()
    db.session.flush()
    return True


def send_test(campaign: Campaign, user: User, subscriber_id: int | None = None) -> None:
    """Queue a test email of the current draft to the user, rendered for one person."""
    composition.ensure_renderable(campaign)
    if not campaign.from_email:
        raise ValidationError("Set the from address first.")
    if suppression.is_suppressed(user.email):
        raise Forbidden(f"{user.email} is on the suppression list: no email can go there.")
    jobs.enqueue("outbound.send_test", campaign.id, user.id, subscriber_id or 0,
                 queue="outbound")
