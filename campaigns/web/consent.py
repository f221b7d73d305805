"""Public pages the people on the list use: unsubscribe (with RFC 8058 one-click), signup and
its double opt-in confirmation.

They need no login, set no cookie and take no CSRF token: the signed token in the URL is
what authenticates an unsubscribe or a confirmation, and a signup only ever sends a
confirmation email. GET never changes anything (mail scanners prefetch links).
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for

from campaigns.core import consent
from campaigns.core import signup as signups
from campaigns.db import db
from campaigns.errors import CampaignsError, ValidationError
from campaigns.security import csrf, limiter, public

bp = Blueprint("consent", __name__)


def public_url(endpoint: str, **values: object) -> str:
    """Return an absolute URL on BASE_URL (what people outside reach), not the request host."""
    return current_app.config["BASE_URL"].rstrip("/") + url_for(endpoint, **values)


def _invalid(error: CampaignsError):  # noqa: ANN202
    """Refuse a forged, altered or expired link with a clear page."""
    return render_template("consent/invalid.html", message=error.message), 400


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@public
@csrf.exempt
def unsubscribe(token: str):
    """GET: ask to confirm (never unsubscribes). POST: unsubscribe now; RFC 8058 one-click."""
    if request.method == "GET":
        try:
            _, person = consent.subscriber_of_token(token)
        except ValidationError as exc:
            return _invalid(exc)
        return render_template("consent/unsubscribe.html", person=person, done=False)
    one_click = request.form.get("List-Unsubscribe") == "One-Click"
    try:
        result = consent.unsubscribe_by_token(token, one_click=one_click)
    except ValidationError as exc:
        return _invalid(exc)
    db.session.commit()
    return render_template("consent/unsubscribe.html", person=result.subscriber, done=True,
                           signup_url=public_url("consent.signup"))


def _signup_limit() -> str:
    return current_app.config["SIGNUP_RATE_LIMIT"]


@bp.route("/signup", methods=["GET", "POST"])
@public
@csrf.exempt
@limiter.limit(_signup_limit, methods=["POST"])
def signup():
    """Show the signup form; on POST, email a confirmation link (double opt-in)."""
    form_value = request.values.get("form", "")
    if request.method == "GET":
        return render_template("consent/signup.html", form_value=form_value, error="",
                               values={}, list_name=current_app.config["SIGNUP_FROM_NAME"])
    if request.form.get("website"):  # the honeypot only bots fill in
        return render_template("consent/signup_sent.html")
    try:
        signups.request_signup(request.form.get("email", ""),
                              first_name=request.form.get("first_name", ""),
                              last_name=request.form.get("last_name", ""),
                              tag=signups.read_form_token(form_value))
    except ValidationError:
        return render_template("consent/signup.html", form_value=form_value,
                               error="That does not look like an email address.",
                               values=request.form,
                               list_name=current_app.config["SIGNUP_FROM_NAME"]), 422
    db.session.commit()
    return render_template("consent/signup_sent.html")


@bp.route("/signup/confirm/<token>", methods=["GET", "POST"])
@public
@csrf.exempt
def confirm(token: str):
    """GET: ask to confirm (scanners prefetch links). POST: subscribe the person."""
    try:
        if request.method == "GET":
            person, _ = signups.read_confirm_token(token)
            return render_template("consent/confirm.html", person=person, done=False)
        person = signups.confirm_signup(token)
    except ValidationError as exc:
        return _invalid(exc)
    db.session.commit()
    return render_template("consent/confirm.html", person=person, done=True)
