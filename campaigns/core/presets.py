"""Campaign presets: how people start conversations, each with a subject, a body and a goal."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from campaigns.errors import ValidationError
from campaigns.models import CampaignKind


@dataclass(frozen=True)
class Preset:
    """A starting point for one kind of campaign."""

    kind: CampaignKind
    title: str
    summary: str
    subject: str
    goal_prompt: str  # the question the goal field asks

    def body(self) -> str:
        """Return the preset's MJML body (templates/email/presets/<kind>.mjml)."""
        folder = Path(current_app.template_folder or "") / "email" / "presets"
        return (folder / f"{self.kind.value}.mjml").read_text(encoding="utf-8")


PRESETS: dict[CampaignKind, Preset] = {p.kind: p for p in (
    Preset(CampaignKind.DISCUSSION_INVITE, "Discussion invite",
           "Invite your list to a small online conversation on a topic, and say how to reach "
           "you one-on-one afterwards.",
           "A small conversation about [topic], want to join?",
           "What do you want from this discussion? (e.g. six people who care about X, and "
           "two follow-up calls)"),
    Preset(CampaignKind.VIRTUAL_COFFEE, "Virtual coffee",
           "A casual, open-ended one-on-one: catch up with people you have not spoken to "
           "in a while.",
           "Virtual coffee, {{ first_name | fallback('there') }}?",
           "What do you hope comes out of these coffees? (e.g. reconnect with 10 former "
           "colleagues this month)"),
    Preset(CampaignKind.INTRODUCTION_REQUEST, "Introduction request",
           "Ask the people you know to introduce you to someone specific.",
           "Could you introduce me to someone?",
           "Who do you want to meet, and why? (e.g. two heads of design at fintech "
           "start-ups)"),
    Preset(CampaignKind.HOST_CONVERSATION, "Host a conversation",
           "Announce a talk, an AMA or a roundtable you host, and ask people to save a seat "
           "by replying.",
           "Join me for [a talk, an AMA, a roundtable] on [subject]",
           "What would make this event a success for you? (e.g. 20 replies, 5 questions "
           "sent in advance)"),
    Preset(CampaignKind.CUSTOM, "Custom",
           "Start from a blank personal note.",
           "",
           "What do you want from this campaign?"),
)}


def preset_for(kind: str | CampaignKind) -> Preset:
    """Return the preset of a campaign kind, or raise ValidationError for an unknown one."""
    try:
        return PRESETS[CampaignKind(kind)]
    except ValueError as exc:
        kinds = ", ".join(k.value for k in CampaignKind)
        raise ValidationError(f"Unknown campaign kind {kind!r}; use one of {kinds}.") from exc
