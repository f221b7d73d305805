"""Triage: inbound mail the pipeline could not file alone, and the user's decision on it.

Four lists: unmatched replies (link to a subscriber, or dismiss), written unsubscribe
requests (confirm, or take as a reply), unverified bounces and complaints (apply, or
dismiss), and messages whose processing failed (re-process, or dismiss).
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField
from wtforms.validators import DataRequired, Email, Length

from campaigns.core.inbound import triage
from campaigns.core.inbound.process import reset_for_reprocessing
from campaigns.db import db
from campaigns.errors import CampaignsError
from campaigns.models import Campaign, InboundStatus
from campaigns.web import flash_error

bp = Blueprint("triage", __name__, url_prefix="/triage")

LISTS = {
    "unmatched": (InboundStatus.UNMATCHED, "Unmatched replies"),
    "unsubscribe": (InboundStatus.TO_CONFIRM, "Unsubscribe requests"),
    "unverified": (InboundStatus.UNVERIFIED, "Unverified bounces"),
    "failed": (InboundStatus.NEEDS_REVIEW, "Could not be processed"),
}


class LinkForm(FlaskForm):
    email = EmailField("Subscriber's address", validators=[DataRequired(), Email(),
                                                            Length(max=320)])
    campaign_id = SelectField("Campaign", coerce=int, default=0)
    create = BooleanField("Add them to the list if they are not on it")


class ActionForm(FlaskForm):
    """A form with only the CSRF token, for buttons that change state."""


@bp.app_template_global()
def triage_waiting() -> int:
    """Return how many inbound messages wait for a decision (for the Inbox header link)."""
    return sum(triage.triage_counts().values())


@bp.route("/")
def index():
    """Show one triage list with the counts of all of them."""
    name = request.args.get("list", "unmatched")
    status, title = LISTS.get(name, LISTS["unmatched"])
    return render_template("triage/index.html", lists=LISTS, current=name if name in LISTS
                           else "unmatched", title=title, messages=triage.waiting(status),
                           counts=triage.triage_counts(), action=ActionForm())


@bp.route("/<int:inbound_id>")
def show(inbound_id: int):
    """Show one message with the decisions that fit its list."""
    try:
        message = triage.get_message(inbound_id)
    except CampaignsError as exc:
        flash_error(exc)
        return redirect(url_for(".index"))
    form = LinkForm(email=message.from_email)
    form.campaign_id.choices = _campaign_choices()
    return render_template("triage/show.html", message=message, form=form, action=ActionForm(),
                           back=_list_of(message.status),
                           targets=triage.addresses_to_apply(message)
                           if message.status == InboundStatus.UNVERIFIED else [])


@bp.route("/<int:inbound_id>/link", methods=["POST"])
def link(inbound_id: int):
    """File an unmatched reply as coming from a subscriber."""
    form = LinkForm()
    form.campaign_id.choices = _campaign_choices()
    if not form.validate_on_submit():
        flash("Give the subscriber's email address.", "error")
        return redirect(url_for(".show", inbound_id=inbound_id))
    return _decide(lambda: triage.link_to_subscriber(
        inbound_id, form.email.data, campaign_id=form.campaign_id.data or None,
        create=form.create.data), f"Filed as a reply from {form.email.data}.", inbound_id)


@bp.route("/<int:inbound_id>/dismiss", methods=["POST"])
def dismiss(inbound_id: int):
    """Take a message off the triage lists."""
    return _decide(lambda: triage.dismiss(inbound_id), "Dismissed.", inbound_id)


@bp.route("/<int:inbound_id>/confirm-unsubscribe", methods=["POST"])
def confirm_unsubscribe(inbound_id: int):
    """Unsubscribe and suppress the person who asked to be removed."""
    return _decide(lambda: triage.confirm_unsubscribe(inbound_id),
                   lambda subscriber: f"Unsubscribed {subscriber.email}: they will get "
                   "nothing more.", inbound_id)


@bp.route("/<int:inbound_id>/treat-as-reply", methods=["POST"])
def treat_as_reply(inbound_id: int):
    """File a supposed unsubscribe request as a reply."""
    return _decide(lambda: triage.treat_as_reply(inbound_id), "Filed as a reply.", inbound_id)


@bp.route("/<int:inbound_id>/apply-report", methods=["POST"])
def apply_report(inbound_id: int):
    """Act on an unverified bounce or complaint: the user says it is genuine."""
    return _decide(lambda: triage.apply_report(inbound_id, current_user.id),
                   "Applied as a genuine report.", inbound_id)


@bp.route("/<int:inbound_id>/reprocess", methods=["POST"])
def reprocess(inbound_id: int):
    """Queue a message for processing again."""
    return _decide(lambda: reset_for_reprocessing([inbound_id]),
                   "Queued for processing again.", inbound_id)


def _decide(action, done, inbound_id: int):  # noqa: ANN001, ANN202
    """Run a triage decision, commit, flash, and go back to the list it came from."""
    if not ActionForm().validate_on_submit():
        flash("The form expired; try again.", "error")
        return redirect(url_for(".show", inbound_id=inbound_id))
    try:
        came_from = _list_of(triage.get_message(inbound_id).status)
        result = action()
    except CampaignsError as exc:
        db.session.rollback()
        flash_error(exc)
        return redirect(url_for(".show", inbound_id=inbound_id))
    db.session.commit()
    flash(done(result) if callable(done) else done, "success")
    return redirect(url_for(".index", list=came_from or "unmatched"))


def _list_of(status: str) -> str | None:
    """Return the name of the triage list a status belongs to."""
    return next((name for name, (s, _) in LISTS.items() if s == status), None)


def _campaign_choices() -> list[tuple[int, str]]:
    """Return the campaign choices of the link form, newest first."""
    campaigns = db.session.execute(db.select(Campaign.id, Campaign.name)
                                   .order_by(Campaign.created_at.desc()).limit(100)).all()
    return [(0, "Their latest campaign")] + [(c.id, c.name) for c in campaigns]
