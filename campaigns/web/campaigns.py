"""Campaigns: pick a preset, follow the sending live, act on it, read the ledger.

The editor (writing, preview, test, schedule) lives in ``campaign_editor``, on this blueprint.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from jinja2 import select_autoescape

from campaigns.core import campaigns as verbs
from campaigns.core import followups, progress, results
from campaigns.core.presets import PRESETS, preset_for
from campaigns.db import db
from campaigns.errors import CampaignsError
from campaigns.models import Campaign, CampaignStatus, DeliveryState
from campaigns.web import flash_error
from campaigns.web.campaign_forms import ActionForm, NewCampaignForm, ScheduleForm

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")
LEDGER_PAGE = 50


@bp.record_once
def _autoescape_mjml(state) -> None:  # noqa: ANN001 - Flask's BlueprintSetupState
    """Autoescape .mjml templates too (Flask's default covers only .html/.xml)."""
    state.app.jinja_env.autoescape = select_autoescape(["html", "htm", "xml", "xhtml", "mjml"])


@bp.route("/")
def index():
    """List campaigns, newest first, with their ledger counts."""
    rows = db.session.scalars(db.select(Campaign).order_by(Campaign.created_at.desc(),
                                                           Campaign.id.desc())).all()
    counts = progress.counts_by_campaign([c.id for c in rows])
    return render_template("campaigns/index.html", campaigns=rows, counts=counts)


@bp.route("/new", methods=["GET", "POST"])
def new():
    """Pick a kind of campaign, name it and say what you want from it."""
    form = NewCampaignForm()
    if not form.is_submitted():
        form.kind.data = request.args.get("kind") or form.kind.default
    if form.validate_on_submit():
        try:
            campaign = verbs.create({"kind": form.kind.data, "name": form.name.data,
                                     "goal": form.goal.data or ""}, current_user)
        except CampaignsError as exc:
            flash_error(exc)
        else:
            db.session.commit()
            return redirect(url_for(".edit", campaign_id=campaign.id))
    return render_template("campaigns/new.html", form=form, presets=PRESETS.values())


@bp.route("/<int:campaign_id>")
def show(campaign_id: int):
    """Show a campaign: status, live progress, actions and the per-person ledger."""
    campaign = _get(campaign_id)
    if campaign.status == CampaignStatus.DRAFT:
        return redirect(url_for(".edit", campaign_id=campaign.id))
    state = request.args.get("state") or ""
    rows, next_after = _ledger_page(campaign.id, state)
    return render_template("campaigns/show.html", campaign=campaign,
                           preset=preset_for(campaign.kind), progress=progress.progress(campaign),
                           rows=rows, next_after=next_after, state=state,
                           q=request.args.get("q", ""), states=list(DeliveryState),
                           action=ActionForm(), schedule=ScheduleForm(),
                           funnel=results.funnel(campaign.id),
                           outcome_label=followups.outcome_label)


@bp.route("/<int:campaign_id>/progress")
def live_progress(campaign_id: int):
    """The progress block alone, polled by htmx while the campaign sends."""
    campaign = _get(campaign_id)
    sent, at = request.args.get("sent", type=int), request.args.get("at", type=float)
    previous = (sent, at) if sent is not None and at is not None else None
    return render_template("campaigns/_progress.html", campaign=campaign,
                           progress=progress.progress(campaign, previous), action=ActionForm())


@bp.route("/<int:campaign_id>/ledger")
def ledger_rows(campaign_id: int):
    """A page of the ledger, filtered by state and address (htmx or plain link)."""
    campaign = _get(campaign_id)
    state = request.args.get("state") or ""
    rows, next_after = _ledger_page(campaign.id, state)
    template = "campaigns/_ledger_rows.html" if request.headers.get("HX-Request") \
        else "campaigns/_ledger_page.html"
    return render_template(template, campaign=campaign, rows=rows, next_after=next_after,
                           state=state, q=request.args.get("q", ""),
                           states=list(DeliveryState))


def _ledger_page(campaign_id: int, state: str):  # noqa: ANN202
    """Return one page of the ledger from the request's filters (bad filters: no rows)."""
    try:
        return progress.deliveries(campaign_id, state=state or None,
                                   query=request.args.get("q") or None,
                                   after=request.args.get("after", 0, type=int),
                                   limit=LEDGER_PAGE)
    except CampaignsError as exc:
        flash_error(exc)
        return [], None


def _get(campaign_id: int) -> Campaign:
    """Return the campaign or answer 404."""
    return db.get_or_404(Campaign, campaign_id)


def _act(campaign_id: int, verb: Callable[[Campaign], object], done: str):  # noqa: ANN202
    """Run a state-changing verb from a button, then show the campaign."""
    campaign = _get(campaign_id)
    if not ActionForm().validate_on_submit():
        flash("The form expired: try again.", "error")
    else:
        try:
            verb(campaign)
        except CampaignsError as exc:
            db.session.rollback()
            flash_error(exc)
        else:
            db.session.commit()
            flash(done, "success")
    return redirect(url_for(".show", campaign_id=campaign_id))


@bp.route("/<int:campaign_id>/send", methods=["POST"])
def send(campaign_id: int):
    """Start sending now."""
    return _act(campaign_id, verbs.start, "Sending started.")


@bp.route("/<int:campaign_id>/pause", methods=["POST"])
def pause(campaign_id: int):
    """Pause sending."""
    return _act(campaign_id, verbs.pause, "Paused: the emails in flight finish, no more start.")


@bp.route("/<int:campaign_id>/resume", methods=["POST"])
def resume(campaign_id: int):
    """Resume sending."""
    return _act(campaign_id, verbs.resume, "Sending resumed.")


@bp.route("/<int:campaign_id>/cancel", methods=["POST"])
def cancel(campaign_id: int):
    """Cancel what has not been sent."""
    return _act(campaign_id, verbs.cancel, "Cancelled: nothing more will be sent.")


@bp.route("/<int:campaign_id>/retry-failed", methods=["POST"])
def retry_failed(campaign_id: int):
    """Send the failed emails again."""
    return _act(campaign_id, verbs.retry_failed, "The failed emails are queued again.")


@bp.route("/<int:campaign_id>/unschedule", methods=["POST"])
def unschedule(campaign_id: int):
    """Turn a scheduled campaign back into a draft."""
    return _act(campaign_id, verbs.unschedule, "Unscheduled: it is a draft again.")


from campaigns.web import campaign_editor  # noqa: E402,F401 - the editor's routes on bp
