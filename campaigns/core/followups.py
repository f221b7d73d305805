"""Follow-ups: snooze, wake, finish with an outcome, assign, note, and undo."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update

from campaigns.db import db, utcnow
from campaigns.errors import NotFound, ValidationError
from campaigns.models import (
    CampaignKind,
    FollowUp,
    FollowUpNote,
    FollowUpStatus,
    Outcome,
    User,
)

OUTCOME_LABELS = {
    Outcome.COFFEE_BOOKED: "Coffee booked",
    Outcome.INTRODUCTION_MADE: "Introduction made",
    Outcome.JOINED_DISCUSSION: "Joined the discussion",
    Outcome.NOT_NOW: "Not now",
    Outcome.DECLINED: "Declined",
    Outcome.OTHER: "Other",
}

# The outcomes offered first for each kind of campaign; every kind may use any outcome.
OUTCOMES_BY_KIND = {
    CampaignKind.DISCUSSION_INVITE: [Outcome.JOINED_DISCUSSION, Outcome.NOT_NOW,
                                     Outcome.DECLINED],
    CampaignKind.VIRTUAL_COFFEE: [Outcome.COFFEE_BOOKED, Outcome.NOT_NOW, Outcome.DECLINED],
    CampaignKind.INTRODUCTION_REQUEST: [Outcome.INTRODUCTION_MADE, Outcome.NOT_NOW,
                                        Outcome.DECLINED],
    CampaignKind.HOST_CONVERSATION: [Outcome.JOINED_DISCUSSION, Outcome.NOT_NOW,
                                     Outcome.DECLINED],
    CampaignKind.CUSTOM: [Outcome.COFFEE_BOOKED, Outcome.INTRODUCTION_MADE,
                          Outcome.JOINED_DISCUSSION, Outcome.NOT_NOW, Outcome.DECLINED],
}
MAX_OUTCOME_LENGTH = 100


def get_followup(followup_id: int) -> FollowUp:
    """Return a follow-up or raise NotFound."""
    followup = db.session.get(FollowUp, followup_id)
    if followup is None:
        raise NotFound("No such conversation.")
    return followup


def outcome_choices(kind: str | None) -> list[tuple[str, str]]:
    """Return (value, label) pairs for a campaign kind, its usual outcomes first."""
    first = OUTCOMES_BY_KIND.get(CampaignKind(kind) if kind else CampaignKind.CUSTOM, [])
    rest = [o for o in Outcome if o not in first]
    return [(o.value, OUTCOME_LABELS[o]) for o in [*first, *rest]]


def outcome_label(value: str) -> str:
    """Return how an outcome reads in the UI (custom outcomes read as written)."""
    try:
        return OUTCOME_LABELS[Outcome(value)]
    except ValueError:
        return value


def snooze(followup: FollowUp, until: datetime) -> None:
    """Hide a conversation until a time (UTC); it comes back by itself."""
    if until <= utcnow():
        raise ValidationError("Snooze until a time in the future.")
    followup.status = FollowUpStatus.SNOOZED
    followup.snoozed_until = until


def finish(followup: FollowUp, outcome: str) -> None:
    """Mark a conversation done with an outcome (a known one or the user's own words)."""
    outcome = " ".join(outcome.split())
    if not outcome:
        raise ValidationError("Choose an outcome.")
    if len(outcome) > MAX_OUTCOME_LENGTH:
        raise ValidationError(f"Keep the outcome under {MAX_OUTCOME_LENGTH} characters.")
    followup.status = FollowUpStatus.DONE
    followup.outcome = outcome
    followup.closed_at = utcnow()
    followup.snoozed_until = None
    followup.unread = False


def reopen(followup: FollowUp) -> None:
    """Undo done or snooze: the conversation is open again, as it was."""
    followup.status = FollowUpStatus.OPEN
    followup.snoozed_until = None
    followup.closed_at = None
    followup.outcome = ""


def set_due(followup: FollowUp, due_at: datetime | None) -> None:
    """Set or clear the date by which the user means to act."""
    followup.due_at = due_at


def assign(followup: FollowUp, assignee_id: int | None) -> None:
    """Give the conversation to a team member, or to nobody."""
    if assignee_id is not None and db.session.get(User, assignee_id) is None:
        raise ValidationError("No such team member.")
    followup.assignee_id = assignee_id


def add_note(followup: FollowUp, author: User | None, body: str) -> FollowUpNote:
    """Keep a private note on the conversation."""
    body = body.strip()
    if not body:
        raise ValidationError("A note needs some text.")
    note = FollowUpNote(followup=followup, author_id=author.id if author else None, body=body)
    db.session.add(note)
    db.session.flush()
    return note


def mark_read(followup: FollowUp, read: bool = True) -> None:
    """Mark the conversation read (or unread again)."""
    followup.unread = not read


def wake_due(now: datetime | None = None) -> int:
    """Reopen snoozed conversations whose time has come; return how many woke."""
    now = now or utcnow()
    return db.session.execute(
        update(FollowUp)
        .where(FollowUp.status == FollowUpStatus.SNOOZED, FollowUp.snoozed_until <= now)
        .values(status=FollowUpStatus.OPEN, snoozed_until=None, unread=True)
        .execution_options(synchronize_session=False)).rowcount
