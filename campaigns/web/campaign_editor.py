"""The campaign editor: write, check and preview a draft, test it, schedule or send it.

As the writer types, htmx posts the form to ``autosave``, which saves the draft and answers
with the side panel: the audience count, errors at their line, warnings, and preview frames
that reload the rendered email for a real person of the audience.
"""

from __future__ import annotations

from typing import Any

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from campaigns.core import campaigns as verbs
from campaigns.core import composition
from campaigns.core.presets import preset_for
from campaigns.db import db
from campaigns.errors import CampaignsError
from campaigns.mail import render
from campaigns.models import Campaign, CampaignStatus, Segment
from campaigns.values import parse_id
from campaigns.web import flash_error
from campaigns.web.campaign_forms import ActionForm, EditorForm, ScheduleForm, SelectChoice
from campaigns.web.campaigns import bp

# The preview is the sender's own email: its inline styles and images may load, no script.
PREVIEW_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; "
               "font-src https: data:; frame-ancestors 'self'; base-uri 'none'; "
               "form-action 'none'")


@bp.route("/<int:campaign_id>/edit", methods=["GET", "POST"])
def edit(campaign_id: int):
    """Edit a draft: subject, body, text part, sender, audience and pacing."""
    campaign = db.get_or_404(Campaign, campaign_id)
    if campaign.status != CampaignStatus.DRAFT:
        flash(f"This campaign is {campaign.status}: it can no longer be edited.", "warning")
        return redirect(url_for(".show", campaign_id=campaign.id))
    form = EditorForm()
    _choices(form, campaign)
    if request.method == "GET":
        _fill(form, campaign)
    elif form.validate_on_submit() and _save(campaign, form):
        return redirect(url_for(".edit", campaign_id=campaign.id,
                                subscriber=form.preview_subscriber.data or None))
    else:
        _flash_form_errors(form)
    return render_template("campaigns/edit.html", campaign=campaign, form=form,
                           preset=preset_for(campaign.kind), schedule=ScheduleForm(),
                           action=ActionForm(), **_panel(campaign, _preview_id(form)))


@bp.route("/<int:campaign_id>/autosave", methods=["POST"])
def autosave(campaign_id: int):
    """Save the draft as typed and answer with the side panel (htmx)."""
    campaign = db.get_or_404(Campaign, campaign_id)
    form = EditorForm()
    _choices(form, campaign)
    problem = None
    if not form.validate_on_submit():
        problem = next((errors[0] for errors in form.errors.values()), "Check the form.")
    elif campaign.status != CampaignStatus.DRAFT:
        problem = f"This campaign is {campaign.status}: it can no longer be edited."
    else:
        try:
            verbs.update_draft(campaign, form.campaign_data())
            db.session.commit()
        except CampaignsError as exc:
            db.session.rollback()
            problem = exc.message
    return render_template("campaigns/_panel.html", campaign=campaign, form=form,
                           save_problem=problem,
                           **_panel(campaign, _preview_id(form)))


@bp.route("/<int:campaign_id>/preview.html")
def preview_html(campaign_id: int):
    """The rendered HTML email alone, for the preview frames."""
    campaign = db.get_or_404(Campaign, campaign_id)
    person = composition.preview_person(campaign, request.args.get("subscriber", type=int))
    try:
        html = composition.preview(campaign, person).html
    except render.TemplateError as exc:
        html = render_template("campaigns/_preview_error.html", problems=exc.problems)
    response = make_response(html)
    response.headers["Content-Security-Policy"] = PREVIEW_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:campaign_id>/test", methods=["POST"])
def test_send(campaign_id: int):
    """Send the draft to yourself, rendered for the person being previewed."""
    campaign = db.get_or_404(Campaign, campaign_id)
    subscriber = request.form.get("subscriber", type=int)
    if ActionForm().validate_on_submit():
        try:
            verbs.send_test(campaign, current_user, subscriber)
        except CampaignsError as exc:
            flash_error(exc)
        else:
            db.session.commit()
            flash(f"Test email on its way to {current_user.email}.", "success")
    return redirect(url_for(".edit", campaign_id=campaign.id, subscriber=subscriber))


@bp.route("/<int:campaign_id>/schedule", methods=["POST"])
def schedule(campaign_id: int):
    """Schedule the draft for a time in a time zone."""
    campaign = db.get_or_404(Campaign, campaign_id)
    form = ScheduleForm()
    if not form.validate_on_submit():
        _flash_form_errors(form)
        return redirect(url_for(".edit", campaign_id=campaign.id))
    try:
        verbs.schedule(campaign, form.when.data, form.timezone.data)
    except CampaignsError as exc:
        db.session.rollback()
        flash_error(exc)
        return redirect(url_for(".edit", campaign_id=campaign.id))
    db.session.commit()
    flash(f"Scheduled for {form.when.data:%d %b %Y %H:%M} ({form.timezone.data}).", "success")
    return redirect(url_for(".show", campaign_id=campaign.id))


@bp.route("/<int:campaign_id>/delete", methods=["POST"])
def delete(campaign_id: int):
    """Delete a draft."""
    campaign = db.get_or_404(Campaign, campaign_id)
    if ActionForm().validate_on_submit():
        try:
            verbs.delete_draft(campaign)
        except CampaignsError as exc:
            flash_error(exc)
            return redirect(url_for(".show", campaign_id=campaign.id))
        db.session.commit()
        flash("Draft deleted.", "success")
    return redirect(url_for(".index"))


def _save(campaign: Campaign, form: EditorForm) -> bool:
    """Save the form into the draft (or fill the text part from the HTML first)."""
    data = form.campaign_data()
    try:
        if request.form.get("action") == "generate_text":
            data["body_text"] = render.generated_text(data["body_mjml"])
        verbs.update_draft(campaign, data)
    except CampaignsError as exc:
        db.session.rollback()
        flash_error(exc)
        return False
    db.session.commit()
    flash("Saved.", "success")
    return True


def _panel(campaign: Campaign, subscriber_id: int | None) -> dict[str, Any]:
    """Return what the side panel shows: count, checks, the person and their preview."""
    person = composition.preview_person(campaign, subscriber_id)
    checks, rendered = composition.checked_preview(campaign, person)
    version = f"{campaign.updated_at:%Y%m%d%H%M%S%f}-{person.id}"
    return {"checks": checks, "person": person, "rendered": rendered, "version": version}


def _choices(form: EditorForm, campaign: Campaign) -> None:
    """Fill the select boxes: segments and the people to preview for."""
    segments = db.session.scalars(db.select(Segment).order_by(Segment.name)).all()
    form.segment_id.choices = [SelectChoice("", "No segment")] + [
        SelectChoice(str(s.id), s.name) for s in segments]
    people = composition.preview_people(campaign)
    form.preview_subscriber.choices = [SelectChoice("", "The first person of the audience")] + [
        SelectChoice(str(p.id), f"{p.name} <{p.email}>" if p.name else p.email) for p in people]


def _fill(form: EditorForm, campaign: Campaign) -> None:
    """Put the draft's values in the form."""
    for name in ("name", "goal", "subject", "body_mjml", "body_text", "from_name",
                 "from_email", "reply_mode", "rate_per_minute", "rate_per_hour",
                 "daily_conversation_cap"):
        getattr(form, name).data = getattr(campaign, name)
    audience = campaign.audience or {}
    form.tags.data = ", ".join(audience.get("tags") or [])
    form.segment_id.data = str(audience.get("segment_id") or "")
    form.preview_subscriber.data = request.args.get("subscriber", "")


def _preview_id(form: EditorForm) -> int | None:
    """Return the subscriber chosen for the preview, if any."""
    raw = form.preview_subscriber.data or request.args.get("subscriber") or ""
    return parse_id(raw)


def _flash_form_errors(form: Any) -> None:
    """Flash the first error of each field."""
    for name, errors in form.errors.items():
        label = getattr(form, name).label.text if hasattr(form, name) else name
        flash(f"{label}: {errors[0]}", "error")
