"""The suppression list: every address nothing may be sent to, and manual entries."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from campaigns.core import consent
from campaigns.db import db
from campaigns.errors import CampaignsError
from campaigns.models import Suppression
from campaigns.values import parse_id
from campaigns.web import flash_error
from campaigns.web.subscribers import bp

PAGE = 100


@bp.route("/suppressions")
def suppression_list():
    """List suppressed addresses, newest first, with a search and a form to add one."""
    query = request.args.get("q", "")
    before = parse_id(request.args.get("before"))
    rows = consent.suppressions_page(query, before, PAGE + 1)
    return render_template("subscribers/suppressions.html", rows=rows[:PAGE], q=query,
                           more=len(rows) > PAGE, total=db.session.query(Suppression).count())


@bp.route("/suppressions", methods=["POST"])
def suppression_add():
    """Suppress an address by hand (on the list or not)."""
    email = request.form.get("email", "")
    try:
        consent.suppress_address(email, request.form.get("detail", "").strip())
    except CampaignsError as exc:
        flash_error(exc)
    else:
        db.session.commit()
        flash(f"{email.strip()} is suppressed: nothing will be sent to it.", "success")
    return redirect(url_for(".suppression_list"))


@bp.route("/suppressions/<int:suppression_id>/lift", methods=["POST"])
def suppression_lift(suppression_id: int):
    """Lift a manual suppression."""
    entry = db.session.get(Suppression, suppression_id)
    if entry is None:
        abort(404)
    try:
        consent.lift_suppression(entry)
    except CampaignsError as exc:
        flash_error(exc)
    else:
        db.session.commit()
        flash("Suppression lifted.", "success")
    return redirect(url_for(".suppression_list"))
