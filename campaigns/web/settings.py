"""Settings: users (owners only) and API tokens."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length

from campaigns.core import users
from campaigns.db import db
from campaigns.errors import CampaignsError
from campaigns.models import ApiToken, Role, User
from campaigns.web import flash_error

bp = Blueprint("settings", __name__, url_prefix="/settings")


class TokenForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])


class UserForm(FlaskForm):
    name = StringField("Name", validators=[Length(max=200)])
    email = EmailField("Email", validators=[DataRequired(), Email()])
    password = PasswordField("Initial password", validators=[
        DataRequired(), Length(min=users.MIN_PASSWORD_LENGTH)])
    role = SelectField("Role", choices=[SelectChoice(r.value, r.value.title()) for r in Role])


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for buttons that change state."""


@bp.route("/")
def index():
    """Show the user's tokens and, for owners, the team."""
    tokens = db.session.scalars(
        db.select(ApiToken).where(ApiToken.user_id == current_user.id,
                                  ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.created_at.desc())).all()
    team = db.session.scalars(db.select(User).order_by(User.email)).all()
    return render_template("settings/index.html", tokens=tokens, team=team,
                           token_form=TokenForm(), user_form=UserForm(), empty=EmptyForm())


@bp.route("/tokens", methods=["POST"])
def create_token():
    """Create an API token and show it once."""
    form = TokenForm()
    if not form.validate_on_submit():
        flash("Give the token a name.", "error")
        return redirect(url_for(".index"))
    token = users.issue_token(current_user, form.name.data)
    db.session.commit()
    flash(f"Your new token (copy it now, it is not shown again): {token}", "token")
    return redirect(url_for(".index"))


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
def revoke_token(token_id: int):
    """Revoke an API token."""
    try:
        users.revoke_token(current_user, token_id)
    except CampaignsError as exc:
        flash_error(exc)
    else:
        db.session.commit()
        flash("Token revoked.", "success")
    return redirect(url_for(".index"))


@bp.route("/users", methods=["POST"])
def create_user():
    """Add a team member (owners only)."""
    if not current_user.is_owner:
        abort(403)
    form = UserForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            flash(errors[0], "error")
        return redirect(url_for(".index"))
    try:
        users.create_user(form.email.data, form.password.data, role=Role(form.role.data),
                          name=form.name.data or "")
    except CampaignsError as exc:
        flash_error(exc)
    else:
        db.session.commit()
        flash(f"{form.email.data} can now log in.", "success")
    return redirect(url_for(".index"))
