"""Campaign results: the funnel from sent to outcomes, and replies over time."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from campaigns.core import followups, results
from campaigns.db import db
from campaigns.models import Campaign

bp = Blueprint("results", __name__, url_prefix="/campaigns")


@bp.route("/<int:campaign_id>/results")
def show(campaign_id: int):
    """Show the funnel and the replies chart of one campaign."""
    campaign = db.session.get(Campaign, campaign_id) or abort(404)
    return render_template("campaigns/results.html", campaign=campaign,
                           funnel=results.funnel(campaign_id),
                           outcome_label=followups.outcome_label)
