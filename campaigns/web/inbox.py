"""The follow-up inbox: every human reply as a one-on-one conversation, and its actions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy.orm import selectinload

from campaigns.core import audience, composition, followup_replies, followups, inbox
from campaigns.core.composition import Person
from campaigns.db import db, utcnow
from campaigns.errors import CampaignsError
from campaigns.models import Campaign, FollowUp, FollowUpMessage, User
from campaigns.values import parse_id, parse_ids
from campaigns.web import flash_error
from campaigns.web.helpers import local_url
from campaigns.web.messages import frame_response

bp = Blueprint("inbox", __name__)

SNOOZE_PRESETS = {
    "3h": ("In 3 hours", lambda now: now + timedelta(hours=3)),
    "tomorrow": ("Tomorrow morning", lambda now: _morning(now + timedelta(days=1))),
    "monday": ("Next Monday", lambda now: _morning(now + timedelta(days=7 - now.weekday()))),
    "week": ("In a week", lambda now: _morning(now + timedelta(days=7))),
}


def _morning(day: datetime) -> datetime:
    return day.replace(hour=9, minute=0, second=0, microsecond=0)


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return parse_id(value)


def _filter_from_request() -> inbox.InboxFilter:
    """Read the inbox filters from the query string (links and htmx share them)."""
    args = request.args
    after = None
    if args.get("after_at") and parse_id(args.get("after_id")):
        try:
            after = (datetime.fromisoformat(args["after_at"]), int(args["after_id"]))
        except ValueError:
            after = None
    assignee = args.get("assignee", "")
    return inbox.InboxFilter(
        view=args.get("view") if args.get("view") in inbox.VIEWS else "open",
        campaign_id=_int_arg("campaign"),
        outcome=args.get("outcome", ""),
        assignee_id=0 if assignee == "none" else parse_id(assignee),
        waiting_on=args.get("waiting", ""),
        unread_only=args.get("unread") == "1",
        q=args.get("q", "")[:200],
        sort=args.get("sort") if args.get("sort") in inbox.SORTS else "newest",
        after=after,
    )


@bp.route("/")
def index():
    """List conversations with filters; htmx asks for just the rows."""
    flt = _filter_from_request()
    rows, cursor = inbox.inbox_page(flt)
    context = dict(rows=rows, cursor=cursor, flt=flt, args=request.args,
                   overdue=inbox.overdue, outcome_label=followups.outcome_label)
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "inbox-rows":
        return render_template("inbox/_rows.html", **context)
    campaigns = db.session.execute(
        db.select(Campaign.id, Campaign.name).order_by(Campaign.created_at.desc())).all()
    team = db.session.scalars(db.select(User).order_by(User.email)).all()
    return render_template("inbox/index.html", counts=inbox.counts_for_tabs(), campaigns=campaigns,
                           team=team, outcomes=followups.outcome_choices(None),
                           snooze_presets=SNOOZE_PRESETS, **context)


@bp.route("/inbox/<int:followup_id>")
def conversation(followup_id: int):
    """Show one conversation: the person, the campaign and its goal, the thread, the actions."""
    followup = _get(followup_id)
    if followup.unread:
        followups.mark_read(followup)
        db.session.commit()
    # The thread and each inbound message's row at once, not one query per message.
    followup = db.session.get(FollowUp, followup.id, populate_existing=True, options=[
        selectinload(FollowUp.messages).selectinload(FollowUpMessage.inbound_message)])
    team = db.session.scalars(db.select(User).order_by(User.email)).all()
    return render_template(
        "inbox/conversation.html", f=followup, team=team,
        can_reply=audience.can_receive(followup.subscriber), invitation=_invitation(followup),
        outcomes=followups.outcome_choices(followup.campaign.kind if followup.campaign else None),
        outcome_label=followups.outcome_label, snooze_presets=SNOOZE_PRESETS,
        overdue=inbox.overdue(followup),
        back=local_url(request.args.get("back"), url_for(".index")))


@bp.route("/inbox/<int:followup_id>/invitation")
def invitation(followup_id: int):
    """Serve the campaign email as this person received it, inert, for a sandboxed frame."""
    followup = _get(followup_id)
    rendered = _invitation(followup)
    if rendered is None:
        abort(404)
    return frame_response(rendered.html, images=True)


def _invitation(followup: FollowUp):  # noqa: ANN202 - a Rendered or None
    """Render the campaign's frozen email for the conversation's person, if it was sent."""
    if followup.campaign is None or followup.campaign.compiled_html is None:
        return None
    try:
        return composition.preview(followup.campaign, Person.of(followup.subscriber))
    except CampaignsError:
        return None


@bp.route("/inbox/<int:followup_id>/reply", methods=["POST"])
def reply(followup_id: int):
    """Send a one-on-one reply through the workers; it appears in the thread at once."""
    followup = _get(followup_id)
    try:
        followup_replies.write_reply(followup, current_user, request.form.get("text", ""),
                                     quote=request.form.get("quote") == "1")
    except CampaignsError as exc:
        db.session.rollback()
        flash_error(exc)
        return redirect(url_for(".conversation", followup_id=followup.id, _anchor="reply"))
    db.session.commit()
    flash("Reply on its way.", "success")
    return redirect(url_for(".conversation", followup_id=followup.id))


@bp.route("/inbox/<int:followup_id>/snooze", methods=["POST"])
def snooze(followup_id: int):
    """Snooze until a preset or a chosen time."""
    followup = _get(followup_id)
    return _act(followup, lambda: followups.snooze(followup, _snooze_until()),
                "Snoozed.", undo=True)


@bp.route("/inbox/<int:followup_id>/done", methods=["POST"])
def done(followup_id: int):
    """Mark done with an outcome (a chosen one, or the user's own words)."""
    followup = _get(followup_id)
    outcome = request.form.get("custom_outcome", "").strip() or request.form.get("outcome", "")
    return _act(followup, lambda: followups.finish(followup, outcome), "Marked done.",
                undo=True)


@bp.route("/inbox/<int:followup_id>/reopen", methods=["POST"])
def reopen(followup_id: int):
    """Undo done or snooze."""
    followup = _get(followup_id)
    return _act(followup, lambda: followups.reopen(followup), "Back in the inbox.")


@bp.route("/inbox/<int:followup_id>/assign", methods=["POST"])
def assign(followup_id: int):
    """Give the conversation to a team member (or to nobody)."""
    followup = _get(followup_id)
    value = request.form.get("assignee", "")
    return _act(followup, lambda: followups.assign(followup, int(value) if value else None),
                "Assigned." if value else "Unassigned.")


@bp.route("/inbox/<int:followup_id>/due", methods=["POST"])
def due(followup_id: int):
    """Set or clear the due date."""
    followup = _get(followup_id)
    return _act(followup, lambda: followups.set_due(followup, _parse_when("due_at")),
                "Due date saved.")


@bp.route("/inbox/<int:followup_id>/notes", methods=["POST"])
def add_note(followup_id: int):
    """Keep a private note."""
    followup = _get(followup_id)
    return _act(followup, lambda: followups.add_note(followup, current_user,
                                                     request.form.get("body", "")), "Note kept.")


@bp.route("/inbox/<int:followup_id>/unread", methods=["POST"])
def mark_unread(followup_id: int):
    """Mark the conversation unread again and go back to the list."""
    followup = _get(followup_id)
    followups.mark_read(followup, read=False)
    db.session.commit()
    return redirect(url_for(".index"))


@bp.route("/inbox/bulk", methods=["POST"])
def bulk():
    """Apply one action to the selected conversations."""
    ids = parse_ids(request.form.getlist("ids"))
    action = request.form.get("action", "")
    selected = db.session.scalars(db.select(FollowUp).where(FollowUp.id.in_(ids))).all()
    if not selected:
        flash("Select some conversations first.", "warning")
        return redirect(local_url(request.referrer, url_for(".index")))
    try:
        for followup in selected:
            _bulk_one(followup, action)
    except (CampaignsError, ValueError) as exc:
        db.session.rollback()
        flash(getattr(exc, "message", str(exc)), "error")
    else:
        db.session.commit()
        flash(f"{len(selected)} conversation{'s' * (len(selected) != 1)} updated.", "success")
    return redirect(local_url(request.referrer, url_for(".index")))


def _bulk_one(followup: FollowUp, action: str) -> None:
    """Apply a bulk action to one conversation."""
    if action == "read":
        followups.mark_read(followup)
    elif action == "unread":
        followups.mark_read(followup, read=False)
    elif action == "snooze":
        followups.snooze(followup, _snooze_until())
    elif action == "done":
        followups.finish(followup, request.form.get("outcome", ""))
    elif action == "reopen":
        followups.reopen(followup)
    elif action == "assign":
        value = request.form.get("assignee", "")
        followups.assign(followup, parse_id(value))
    else:
        abort(400)


def _get(followup_id: int) -> FollowUp:
    try:
        return followups.get_followup(followup_id)
    except CampaignsError:
        abort(404)


def _act(followup: FollowUp, change, message: str, *, undo: bool = False) -> Response:  # noqa: ANN001
    """Run a change, commit, flash (with an undo button where it makes sense), go back."""
    try:
        change()
    except (CampaignsError, ValueError) as exc:
        db.session.rollback()
        flash(getattr(exc, "message", str(exc)), "error")
    else:
        db.session.commit()
        flash(message, "undo" if undo else "success")
        if undo:
            return redirect(url_for(".index", undo=followup.id))
    return redirect(local_url(request.form.get("next"),
                              url_for(".conversation", followup_id=followup.id)))


def _snooze_until() -> datetime:
    """Read a snooze time: a preset name, or a chosen local date and time."""
    preset = request.form.get("preset", "")
    if preset in SNOOZE_PRESETS:
        return SNOOZE_PRESETS[preset][1](utcnow())
    until = _parse_when("until")
    if until is None:
        raise ValueError("Choose when the conversation should come back.")
    return until


def _parse_when(field: str) -> datetime | None:
    """Parse a datetime-local or date form field; empty means none."""
    raw = request.form.get(field, "").strip()
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise ValueError("That date is not valid.") from exc
    if parsed.tzinfo is not None:  # stored as naive UTC, like every time
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed
