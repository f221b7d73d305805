"""Logging in and out, and the first-run set-up that creates the owner."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from campaigns.core import users
from campaigns.db import db
from campaigns.errors import CampaignsError
from campaigns.models import Role
from campaigns.security import limiter, public
from campaigns.web import flash_error
from campaigns.web.helpers import local_url

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Email()])
    password = PasswordField("Password", validators=[DataRequired()])


class SetupForm(FlaskForm):
    name = StringField("Your name", validators=[Length(max=200)])
    email = EmailField("Email", validators=[DataRequired(), Email()])
    password = PasswordField("Password", validators=[
        DataRequired(), Length(min=users.MIN_PASSWORD_LENGTH)])
    confirm = PasswordField("Repeat password", validators=[EqualTo("password")])


def _login_email_key() -> str:
    """Rate-limit key: the address being tried, so one account cannot be hammered."""
    return "login:" + (request.form.get("email") or "").strip().lower()


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(lambda: _login_limit(), methods=["POST"])
@limiter.limit(lambda: _login_limit(), methods=["POST"], key_func=_login_email_key)
def login():
    """Show the login form and log the user in."""
    if not users.has_users():
        return redirect(url_for("auth.setup"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = users.authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user)
            db.session.commit()
            return redirect(local_url(request.args.get("next"), url_for("inbox.index")))
        flash("That email and password do not match.", "error")
        status = 401
    elif form.errors:
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/setup", methods=["GET", "POST"])
@public
def setup():
    """Create the owner account on first run; gone once anyone can log in."""
    if users.has_users():
        abort(404)
    form = SetupForm()
    if form.validate_on_submit():
        try:
            user = users.create_user(form.email.data, form.password.data, role=Role.OWNER,
                                     name=form.name.data or "")
        except CampaignsError as exc:
            flash_error(exc)
        else:
            db.session.commit()
            login_user(user)
            flash("Welcome! Import your people, then write your first invitation.", "success")
            return redirect(url_for("inbox.index"))
    return render_template("auth/setup.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    """Log out (POST only, so a link in an email cannot log anyone out)."""
    logout_user()
    return redirect(url_for("auth.login"))


def _login_limit() -> str:
    from flask import current_app

    return current_app.config["LOGIN_RATE_LIMIT"]
