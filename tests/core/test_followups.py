"""Finishing conversations: snooze, wake, done with an outcome, undo, notes, assignment."""

from datetime import timedelta

import pytest

from campaigns.core import followups, inbox
from campaigns.db import db, utcnow
from campaigns.errors import ValidationError
from campaigns.models import FollowUpStatus, Outcome
from tests.support import factories


def test_a_snoozed_conversation_leaves_the_open_list_and_comes_back_when_due(app_ctx):
    f = factories.followup()
    followups.snooze(f, utcnow() + timedelta(hours=1))
    assert inbox.inbox_page(inbox.InboxFilter(view="open"))[0] == []
    assert followups.wake_due(utcnow() + timedelta(minutes=30)) == 0
    assert followups.wake_due(utcnow() + timedelta(hours=2)) == 1
    db.session.refresh(f)
    assert (f.status, f.snoozed_until, f.unread) == (FollowUpStatus.OPEN, None, True)


def test_snoozing_into_the_past_is_refused(app_ctx):
    with pytest.raises(ValidationError):
        followups.snooze(factories.followup(), utcnow() - timedelta(minutes=1))


def test_done_records_the_outcome_and_undo_reopens_without_it(app_ctx):
    f = factories.followup()
    followups.finish(f, Outcome.COFFEE_BOOKED)
    assert (f.status, f.outcome) == (FollowUpStatus.DONE, "coffee_booked")
    assert f.closed_at is not None
    followups.reopen(f)
    assert (f.status, f.outcome, f.closed_at) == (FollowUpStatus.OPEN, "", None)


def test_a_custom_outcome_is_kept_in_the_users_words(app_ctx):
    f = factories.followup()
    followups.finish(f, "  Speaker at   our May event ")
    assert f.outcome == "Speaker at our May event"
    assert followups.outcome_label(f.outcome) == "Speaker at our May event"


def test_an_empty_outcome_is_refused(app_ctx):
    with pytest.raises(ValidationError):
        followups.finish(factories.followup(), "   ")


def test_outcomes_for_a_virtual_coffee_offer_coffee_booked_first(app_ctx):
    assert followups.outcome_choices("virtual_coffee")[0] == ("coffee_booked", "Coffee booked")
    assert followups.outcome_choices("introduction_request")[0][0] == "introduction_made"


def test_a_note_needs_text(app_ctx):
    with pytest.raises(ValidationError):
        followups.add_note(factories.followup(), None, "  ")


def test_assigning_to_someone_who_does_not_exist_is_refused(app_ctx):
    with pytest.raises(ValidationError):
        followups.assign(factories.followup(), 999)
