"""A person's page: details, tags, custom fields, notes, consent, privacy and the timeline."""

from __future__ import annotations

import json

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from campaigns.core import consent, privacy, subscribers, suppression, timeline
from campaigns.core.signup import form_token
from campaigns.db import db
from campaigns.errors import CampaignsError
from campaigns.models import ConsentSource
from campaigns.web import flash_error
from campaigns.web.consent import public_url
from campaigns.web.subscribers import bp
from campaigns.web.subscribers.listing import PersonForm


@bp.route("/<int:subscriber_id>")
def show(subscriber_id: int):
    """Show a person with their whole history."""
    person = subscribers.get_subscriber(subscriber_id)
    form = PersonForm(obj=person, formdata=None)
    return render_template(
        "subscribers/show.html", person=person, form=form,
        entries=timeline.timeline(person), suppression=suppression.suppression_of(person.email),
        all_tags=subscribers.tag_names(),
        signup_link=public_url("consent.signup", form=form_token()))


def _done(subscriber_id: int, action, message: str):  # noqa: ANN001, ANN202
    """Run a change, commit it and come back to the page (errors become flashes)."""
    try:
        action()
    except CampaignsError as exc:
        db.session.rollback()
        flash_error(exc)
    else:
        db.session.commit()
        flash(message, "success")
    return redirect(url_for(".show", subscriber_id=subscriber_id))


@bp.route("/<int:subscriber_id>/edit", methods=["POST"])
def edit(subscriber_id: int):
    """Change a person's address, names and company."""
    person = subscribers.get_subscriber(subscriber_id)
    form = PersonForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            flash(errors[0], "error")
        return redirect(url_for(".show", subscriber_id=subscriber_id))
    return _done(subscriber_id, lambda: subscribers.update_subscriber(
        person, email=form.email.data, first_name=form.first_name.data,
        last_name=form.last_name.data, company=form.company.data), "Saved.")


@bp.route("/<int:subscriber_id>/tags", methods=["POST"])
def tag(subscriber_id: int):
    """Add tags (comma-separated) to a person."""
    subscribers.get_subscriber(subscriber_id)
    names = request.form.get("tags", "")
    return _done(subscriber_id, lambda: subscribers.add_tags([subscriber_id], [names]),
                 "Tagged.")


@bp.route("/<int:subscriber_id>/tags/remove", methods=["POST"])
def untag(subscriber_id: int):
    """Remove one tag from a person."""
    subscribers.get_subscriber(subscriber_id)
    name = request.form.get("tag", "")
    return _done(subscriber_id, lambda: subscribers.remove_tags([subscriber_id], [name]),
                 f"Removed “{name}”.")


@bp.route("/<int:subscriber_id>/fields", methods=["POST"])
def fields(subscriber_id: int):
    """Replace a person's custom fields with the edited ones."""
    person = subscribers.get_subscriber(subscriber_id)
    keys = request.form.getlist("field_key")
    values = request.form.getlist("field_value")
    edited = {k.strip(): v for k, v in zip(keys, values, strict=False) if k.strip()}
    removed = {k: None for k in (person.fields or {}) if k not in edited}

    def save() -> None:
        subscribers.update_subscriber(person, fields={**removed, **edited})
    return _done(subscriber_id, save, "Custom fields saved.")


@bp.route("/<int:subscriber_id>/notes", methods=["POST"])
def note(subscriber_id: int):
    """Keep a private note about a person."""
    person = subscribers.get_subscriber(subscriber_id)
    return _done(subscriber_id, lambda: subscribers.add_note(
        person, request.form.get("body", ""), current_user.id), "Note added.")


@bp.route("/<int:subscriber_id>/unsubscribe", methods=["POST"])
def unsubscribe(subscriber_id: int):
    """Record that the person asked to be unsubscribed (by reply, phone, in person...)."""
    person = subscribers.get_subscriber(subscriber_id)
    detail = f"Recorded by {current_user.display_name}"
    return _done(subscriber_id, lambda: consent.unsubscribe(person, ConsentSource.MANUAL,
                                                            detail),
                 f"{person.email} is unsubscribed and will not be emailed.")


@bp.route("/<int:subscriber_id>/suppress", methods=["POST"])
def suppress(subscriber_id: int):
    """Put a person on the suppression list by hand."""
    person = subscribers.get_subscriber(subscriber_id)
    detail = f"Suppressed by {current_user.display_name}"
    return _done(subscriber_id, lambda: consent.suppress_manually(person, detail),
                 f"{person.email} is suppressed: nothing will be sent to them.")


@bp.route("/<int:subscriber_id>/unsuppress", methods=["POST"])
def unsuppress(subscriber_id: int):
    """Lift a manual suppression."""
    person = subscribers.get_subscriber(subscriber_id)
    return _done(subscriber_id, lambda: consent.lift_manual_suppression(person),
                 "The manual suppression is lifted.")


@bp.route("/<int:subscriber_id>/export.json")
def export_json(subscriber_id: int):
    """Download everything held about this person (a privacy access request)."""
    person = subscribers.get_subscriber(subscriber_id)
    body = json.dumps(privacy.export_person(person), indent=2, ensure_ascii=False)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="subscriber-{person.id}.json"'})


@bp.route("/<int:subscriber_id>/erase", methods=["POST"])
def erase(subscriber_id: int):
    """Erase a person for good; their address stays blocked as a hash."""
    person = subscribers.get_subscriber(subscriber_id)
    if request.form.get("confirm_email", "").strip().lower() != person.email:
        flash("Type the person's email address to confirm the erasure.", "error")
        return redirect(url_for(".show", subscriber_id=subscriber_id))
    files = privacy.erase_person(person)
    db.session.commit()
    privacy.remove_files(files)
    flash("Erased. Their data is gone; a hash of the address keeps them off the list.",
          "success")
    return redirect(url_for(".index"))


@bp.route("/<int:subscriber_id>/delete", methods=["POST"])
def delete(subscriber_id: int):
    """Delete a person and their history (a later import may add them again)."""
    subscribers.get_subscriber(subscriber_id)
    subscribers.delete_subscribers([subscriber_id])
    db.session.commit()
    flash("Deleted.", "success")
    return redirect(url_for(".index"))
