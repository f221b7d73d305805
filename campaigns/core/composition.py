"""What a campaign sends: a person's context, previews, the editor's checks, the composer."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from flask import current_app

from campaigns.core import audience
from campaigns.core.unsubscribe_tokens import unsubscribe_url
from campaigns.db import db
from campaigns.errors import ValidationError
from campaigns.mail import render
from campaigns.mail.compose import CampaignComposer
from campaigns.mail.dkim import signer_from_settings
from campaigns.models import Campaign, ReplyMode, Subscriber

_DECEPTIVE_SUBJECT = re.compile(r"^\s*(re|fwd?|aw|wg|sv|tr)\s*:", re.I)
_BRACKETED = re.compile(r"\[[^\]\n{}<>]{3,80}\]")


@dataclass(frozen=True)
class Person:
    """The fields of a subscriber a template can use."""

    id: int
    email: str
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    @classmethod
    def of(cls, subscriber: Subscriber) -> Person:
        """Return the template fields of a subscriber row."""
        return cls(subscriber.id, subscriber.email, subscriber.first_name or "",
                   subscriber.last_name or "", subscriber.company or "",
                   dict(subscriber.fields or {}))


SAMPLE_PERSON = Person(0, "ada@example.com", "Ada", "Lovelace", "Analytical Engines", {})


@dataclass
class Checks:
    """What the editor shows: errors that block sending, warnings the sender should see."""

    errors: list[render.Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    audience_count: int = 0
    rendered: render.Rendered | None = None  # the draft for the person, when it rendered

    @property
    def ok(self) -> bool:
        return not self.errors


class HasSender(Protocol):
    """Anything with a campaign's sender fields (a Campaign or a snapshot of one)."""

    from_name: str
    from_email: str


def context_for(campaign: HasSender, person: Person, unsubscribe: str) -> dict[str, Any]:
    """Return the Jinja context of one person's email."""
    return {"first_name": person.first_name, "last_name": person.last_name,
            "name": person.name, "email": person.email, "company": person.company,
            "fields": person.fields, "unsubscribe_url": unsubscribe,
            "sender_name": campaign.from_name, "sender_email": campaign.from_email}


def preview_people(campaign: Campaign, limit: int = 25) -> list[Subscriber]:
    """Return the first people of the campaign's audience, to preview the email for."""
    query = audience.eligible_subscribers(campaign.audience).order_by(Subscriber.id).limit(limit)
    return list(db.session.scalars(query))


def preview_person(campaign: Campaign, subscriber_id: int | None) -> Person:
    """Return the person to preview for: the one asked for, the audience's first, or a sample."""
    if subscriber_id:
        subscriber = db.session.get(Subscriber, subscriber_id)
        if subscriber is not None:
            return Person.of(subscriber)
    first = db.session.scalar(audience.eligible_subscribers(campaign.audience)
                              .order_by(Subscriber.id).limit(1))
    return Person.of(first) if first is not None else SAMPLE_PERSON


def preview(campaign: Campaign, person: Person) -> render.Rendered:
    """Render the campaign for one person (the draft, or what was frozen when it started)."""
    context = context_for(campaign, person, unsubscribe_url(person.id, campaign.id, person.email))
    return render.render(templates_for(campaign), context)


def templates_for(campaign: Campaign, *, draft: bool = False) -> render.Templates:
    """Return the campaign's Jinja templates: frozen once started, else the draft's."""
    if draft or campaign.compiled_html is None:
        body = render.compile_mjml(campaign.body_mjml, campaign.body_text)
    else:
        body = render.CompiledBody(campaign.compiled_html, campaign.compiled_text or "",
                                   generated_text=not campaign.body_text.strip())
    return render.build_templates(campaign.subject, body)


def check(campaign: Campaign, person: Person) -> Checks:
    """Check the draft as the editor shows it: errors at their line, then warnings."""
    result = Checks(audience_count=audience.audience_count(campaign.audience))
    context = context_for(campaign, person, unsubscribe_url(person.id, campaign.id, person.email))
    try:
        templates = render.build_templates(
            campaign.subject, render.compile_mjml(campaign.body_mjml, campaign.body_text))
    except render.TemplateError as exc:
        result.errors = exc.problems
    else:
        try:
            result.rendered = render.render(templates, context)
        except render.TemplateError as exc:
            # A line of the compiled HTML means nothing to the writer: render the sources as
            # written to find the failing line in the MJML.
            result.errors = render.check_runtime(campaign.body_mjml, campaign.subject,
                                                 campaign.body_text, context) or exc.problems
        result.warnings = [f"Unknown variable {{{{ {name} }}}}: it renders empty."
                           for name in render.unknown_variables(templates)]
    result.warnings = _warnings(campaign, result.audience_count) + result.warnings
    return result


def checked_preview(campaign: Campaign, person: Person
                    ) -> tuple[Checks, render.Rendered | None]:
    """Check the draft and return the person's preview too (None while there are errors).

    A draft's preview is the rendering the check already made: the MJML compiles once.
    """
    checks = check(campaign, person)
    if not checks.ok:
        return checks, None
    if campaign.compiled_html is None:
        return checks, checks.rendered
    return checks, preview(campaign, person)  # started: what was frozen, not the draft


def _warnings(campaign: Campaign, audience_count: int) -> list[str]:
    """Return the warnings the sender should see before sending."""
    found = []
    if _DECEPTIVE_SUBJECT.match(campaign.subject or ""):
        found.append("The subject starts like a reply or a forward (Re:, Fwd:): Gmail and "
                     "others treat that as deceptive in a first email.")
    if "unsubscribe_url" not in (campaign.body_mjml or ""):
        found.append("The email has no unsubscribe link: add {{ unsubscribe_url }}.")
    elif campaign.body_text.strip() and "unsubscribe_url" not in campaign.body_text:
        found.append("Your text part has no unsubscribe link: add {{ unsubscribe_url }}.")
    if audience_count == 0:
        found.append("The audience is empty: nobody would receive this campaign.")
    left = sorted(set(_BRACKETED.findall(f"{campaign.subject}\n{campaign.body_mjml}")))
    if left:
        found.append("Placeholders still to fill in: " + ", ".join(left[:5]))
    if not campaign.subject.strip():
        found.append("The subject is empty.")
    if not campaign.from_email:
        found.append("No from address yet.")
    return found


def reply_domain(campaign: Campaign) -> str:
    """Return the domain of tracked reply addresses: REPLY_DOMAIN or the sender's own."""
    configured = current_app.config["REPLY_DOMAIN"]
    return configured or campaign.from_email.rpartition("@")[2]


def message_domain() -> str:
    """Return the domain of the Message-IDs we create."""
    return (current_app.config["SENDER_DOMAIN"]
            or urlsplit(current_app.config["BASE_URL"]).hostname or "localhost")


def make_composer(campaign: Campaign, *, test: bool = False) -> CampaignComposer:
    """Build the composer of a campaign: its frozen templates, or the draft for a test send."""
    tracked = campaign.reply_mode == ReplyMode.TRACKED and not test
    return CampaignComposer(
        templates_for(campaign, draft=test),
        from_name=campaign.from_name, from_email=campaign.from_email,
        reply_domain=reply_domain(campaign) if tracked else None,
        bounce_domain=current_app.config["REPLY_DOMAIN"] or None,
        dkim=signer_from_settings(current_app.config), subject_prefix="[Test] " if test else "")


_composers: dict[tuple[int, Any], CampaignComposer] = {}
_composers_lock = threading.Lock()


def composer_for(campaign_id: int, started_at: Any) -> CampaignComposer:
    """Return this process's composer of a sending campaign (built once per campaign).

    Keyed by id and start time: a campaign's templates are frozen when it starts, so the
    campaign row (and its large template columns) is read only the first time.
    """
    key = (campaign_id, started_at)
    with _composers_lock:
        composer = _composers.get(key)
        if composer is None:
            if len(_composers) > 32:
                _composers.clear()
            composer = make_composer(db.session.get(Campaign, campaign_id))
            _composers[key] = composer
        return composer


def ensure_renderable(campaign: Campaign) -> render.CompiledBody:
    """Compile the draft and render it for a sample person; raise what fails."""
    if not campaign.subject.strip():
        raise ValidationError("Write a subject first.")
    body = render.compile_mjml(campaign.body_mjml, campaign.body_text)
    templates = render.build_templates(campaign.subject, body)
    render.render(templates, context_for(campaign, SAMPLE_PERSON, "https://example.invalid/u"))
    return body
