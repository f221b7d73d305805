"""The follow-up inbox: every human reply as a one-on-one conversation."""

from __future__ import annotations

from flask import Blueprint, render_template

from campaigns.db import db
from campaigns.models import FollowUp, FollowUpStatus

bp = Blueprint("inbox", __name__)


@bp.route("/")
def index():
    """List open conversations, most recent first."""
    followups = db.session.scalars(
        db.select(FollowUp).where(FollowUp.status == FollowUpStatus.OPEN)
        .order_by(FollowUp.last_message_at.desc()).limit(50)).all()
    return render_template("inbox/index.html", followups=followups)
