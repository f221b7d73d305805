"""Campaigns: write invitations and follow their sending."""

from __future__ import annotations

from flask import Blueprint, render_template

from campaigns.db import db
from campaigns.models import Campaign

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")


@bp.route("/")
def index():
    """List campaigns, newest first."""
    rows = db.session.scalars(db.select(Campaign).order_by(Campaign.created_at.desc())).all()
    return render_template("campaigns/index.html", campaigns=rows)
