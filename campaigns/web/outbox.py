"""The demo loop: what the file outbox "sent", and replying to it as the recipient."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from campaigns.core import demo
from campaigns.db import db
from campaigns.errors import CampaignsError
from campaigns.mail.inbound.sanitize import sanitize_html
from campaigns.mail.inbound.understand import understand
from campaigns.web import flash_error
from campaigns.web.messages import frame_response

bp = Blueprint("outbox", __name__, url_prefix="/outbox")


@bp.route("/")
def index():
    """List what the file outbox holds, newest first."""
    return render_template("outbox/index.html", messages=demo.list_outbox(),
                           enabled=demo.outbox_dir() is not None)


@bp.route("/<name>")
def show(name: str):
    """Show one sent email and a form to answer it as its recipient."""
    raw = _read(name)
    return render_template("outbox/show.html", name=name, email=understand(raw))


@bp.route("/<name>/html")
def html(name: str):
    """Serve the sent email's HTML as an inert document for a sandboxed frame."""
    body = sanitize_html(understand(_read(name)).html)
    return frame_response(f'<!doctype html><meta charset="utf-8"><base target="_blank">{body}',
                          images=False)


@bp.route("/<name>/reply", methods=["POST"])
def reply(name: str):
    """Send a reply as the recipient, through the same inbound pipeline as real mail."""
    try:
        raw = demo.reply_as_recipient(_read(name), request.form.get("text", ""))
        demo.deliver_reply(raw)
    except CampaignsError as exc:
        db.session.rollback()
        flash_error(exc)
        return redirect(url_for(".show", name=name))
    db.session.commit()
    flash("Your reply is on its way in. Human replies appear in the Inbox within seconds.",
          "success")
    return redirect(url_for("inbox.index"))


def _read(name: str) -> bytes:
    try:
        return demo.read_outbox(name)
    except CampaignsError:
        abort(404)
