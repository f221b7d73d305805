"""Subscribers: the people on the list."""

from __future__ import annotations

from flask import Blueprint, render_template

from campaigns.db import db
from campaigns.models import Subscriber

bp = Blueprint("subscribers", __name__, url_prefix="/subscribers")


@bp.route("/")
def index():
    """List subscribers, newest first."""
    rows = db.session.scalars(
        db.select(Subscriber).order_by(Subscriber.created_at.desc()).limit(100)).all()
    total = db.session.scalar(db.select(db.func.count(Subscriber.id)))
    return render_template("subscribers/index.html", subscribers=rows, total=total)
