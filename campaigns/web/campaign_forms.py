"""Forms of the campaign pages (Flask-WTF: every one carries its CSRF token)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    EmailField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from campaigns.core.presets import PRESETS


@lru_cache(maxsize=1)
def timezone_choices() -> list[SelectChoice]:
    """Return every IANA time zone, UTC first."""
    zones = sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))
    return [SelectChoice("UTC", "UTC"), *(SelectChoice(z, z.replace("_", " ")) for z in zones)]


class NewCampaignForm(FlaskForm):
    kind = RadioField("Kind", choices=[SelectChoice(p.kind.value, p.title)
                                        for p in PRESETS.values()],
                      default="discussion_invite", validators=[DataRequired()])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    goal = TextAreaField("Goal", validators=[Length(max=5000)])


class EditorForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    goal = TextAreaField("Goal: what do you want from this?", validators=[Length(max=5000)])
    subject = StringField("Subject", validators=[Length(max=500)])
    body_mjml = TextAreaField("Body (MJML with Jinja)", validators=[Length(max=500_000)])
    body_text = TextAreaField("Plain-text part", validators=[Length(max=200_000)])
    from_name = StringField("From name", validators=[Length(max=200)])
    from_email = EmailField("From address", validators=[Length(max=320)])
    reply_mode = RadioField("Replies go to", default="tracked", choices=[
        SelectChoice("tracked", "A tracked reply address (replies are matched by token)"),
        SelectChoice("sender", "My own address (replies are matched by their headers)")])
    tags = StringField("Tags (comma-separated; empty = everyone)",
                       validators=[Length(max=2000)])
    segment_id = SelectField("Segment", choices=[SelectChoice("", "No segment")], default="",
                             validate_choice=False)
    rate_per_minute = IntegerField("Emails per minute (0 = default)", default=0,
                                   validators=[Optional(), NumberRange(min=0)])
    rate_per_hour = IntegerField("Emails per hour (0 = default)", default=0,
                                 validators=[Optional(), NumberRange(min=0)])
    daily_conversation_cap = IntegerField(
        "New conversations per day (0 = no pacing)", default=0,
        validators=[Optional(), NumberRange(min=0)])
    preview_subscriber = SelectField("Preview for", choices=[], validate_choice=False,
                                     coerce=str)

    def campaign_data(self) -> dict[str, Any]:
        """Return the campaign fields the form holds."""
        return {"name": self.name.data or "", "goal": self.goal.data or "",
                "subject": self.subject.data or "", "body_mjml": self.body_mjml.data or "",
                "body_text": self.body_text.data or "", "from_name": self.from_name.data or "",
                "from_email": self.from_email.data or "",
                "reply_mode": self.reply_mode.data or "tracked",
                "audience": {"tags": self.tags.data or "",
                             "segment_id": self.segment_id.data or None},
                "rate_per_minute": self.rate_per_minute.data or 0,
                "rate_per_hour": self.rate_per_hour.data or 0,
                "daily_conversation_cap": self.daily_conversation_cap.data or 0}


class ScheduleForm(FlaskForm):
    when = DateTimeLocalField("Send at", format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    timezone = SelectField("Time zone", choices=[], default="UTC")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = timezone_choices()


class ActionForm(FlaskForm):
    """Only the CSRF token: for buttons that change a campaign's state."""
