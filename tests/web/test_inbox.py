"""The inbox pages: list, filters over htmx, a conversation and the actions on it."""

import pytest

from campaigns.db import db
from campaigns.models import FollowUp, FollowUpStatus
from tests.support import factories
from tests.support.web import post_form


def make_conversation(app, **fields):
    with app.app_context():
        person = factories.subscriber(first_name="Ann", company="Acme")
        f = factories.followup(person, factories.campaign(goal="Book three coffees"),
                               text="Sure, Tuesday works <b>great</b>", **fields)
        db.session.commit()
        return f.id


def test_the_inbox_lists_an_unread_conversation_with_its_snippet(logged_in, app):
    make_conversation(app)
    html = logged_in.get("/").get_data(as_text=True)
    assert "Ann" in html and "Acme" in html
    assert "Sure, Tuesday works &lt;b&gt;great&lt;/b&gt;" in html
    assert "conversation-row unread" in html


def test_an_htmx_filter_request_gets_only_the_rows(logged_in, app):
    make_conversation(app)
    response = logged_in.get("/?q=zzz", headers={"HX-Request": "true",
                                                 "HX-Target": "inbox-rows"})
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="inbox-rows">')
    assert "Nothing matches" in html and "<nav" not in html


def test_opening_a_conversation_shows_the_goal_and_marks_it_read(logged_in, app):
    followup_id = make_conversation(app)
    html = logged_in.get(f"/inbox/{followup_id}").get_data(as_text=True)
    assert "Book three coffees" in html
    with app.app_context():
        assert db.session.get(FollowUp, followup_id).unread is False


def test_done_with_an_outcome_offers_undo_and_undo_reopens(logged_in, app):
    followup_id = make_conversation(app)
    response = post_form(logged_in, f"/inbox/{followup_id}/done", {"outcome": "coffee_booked"})
    assert response.headers["Location"] == f"/?undo={followup_id}"
    assert "Undo" in logged_in.get(response.headers["Location"]).get_data(as_text=True)
    post_form(logged_in, f"/inbox/{followup_id}/reopen")
    with app.app_context():
        assert db.session.get(FollowUp, followup_id).status == FollowUpStatus.OPEN


def test_snoozing_with_a_preset_hides_the_conversation_from_the_open_list(logged_in, app):
    followup_id = make_conversation(app)
    post_form(logged_in, f"/inbox/{followup_id}/snooze", {"preset": "tomorrow"})
    assert "Ann" not in logged_in.get("/").get_data(as_text=True)
    assert "Ann" in logged_in.get("/?view=snoozed").get_data(as_text=True)


def test_a_bad_snooze_date_is_a_clear_error_not_a_crash(logged_in, app):
    followup_id = make_conversation(app)
    response = post_form(logged_in, f"/inbox/{followup_id}/snooze", {"until": "tuesday-ish"},
                         follow_redirects=True)
    assert response.status_code == 200
    assert "not valid" in response.get_data(as_text=True)


def test_a_note_appears_on_the_conversation(logged_in, app):
    followup_id = make_conversation(app)
    post_form(logged_in, f"/inbox/{followup_id}/notes", {"body": "Met at PyCon"})
    assert "Met at PyCon" in logged_in.get(f"/inbox/{followup_id}").get_data(as_text=True)


def test_bulk_mark_done_applies_to_every_selected_conversation(logged_in, app):
    first, second = make_conversation(app), make_conversation(app)
    post_form(logged_in, "/inbox/bulk", {"ids": [first, second], "action": "done",
                                         "outcome": "not_now"}, page="/")
    with app.app_context():
        statuses = {f.status for f in db.session.scalars(db.select(FollowUp))}
    assert statuses == {FollowUpStatus.DONE}


def test_an_unknown_conversation_is_a_404(logged_in):
    assert logged_in.get("/inbox/4242").status_code == 404


def test_a_reply_written_in_the_conversation_is_sent_and_shown_in_the_thread(logged_in, app,
                                                                           worker):
    from campaigns.mail.backends.memory import MemoryBackend

    followup_id = make_conversation(app)
    response = post_form(logged_in, f"/inbox/{followup_id}/reply",
                         {"text": "Tuesday at 10 then!", "quote": "1"})
    assert response.headers["Location"] == f"/inbox/{followup_id}"
    worker.drain()
    assert len(MemoryBackend.outbox) == 1
    html = logged_in.get(f"/inbox/{followup_id}").get_data(as_text=True)
    assert "Tuesday at 10 then!" in html and "Show quoted text" in html


def test_a_suppressed_person_gets_no_composer_and_a_forced_reply_is_refused(logged_in, app):
    from campaigns.core.suppression import suppress
    from campaigns.models import SuppressionReason

    followup_id = make_conversation(app)
    with app.app_context():
        suppress(db.session.get(FollowUp, followup_id).subscriber.email,
                 SuppressionReason.UNSUBSCRIBED)
        db.session.commit()
    html = logged_in.get(f"/inbox/{followup_id}").get_data(as_text=True)
    assert 'id="reply-body"' not in html and "unsubscribed or is suppressed" in html
    response = post_form(logged_in, f"/inbox/{followup_id}/reply", {"text": "Hi"},
                         follow_redirects=True)
    assert "nothing can be sent" in response.get_data(as_text=True)


def test_the_conversation_shows_the_invitation_as_the_person_received_it(logged_in, app,
                                                                        worker):
    from campaigns.core import campaigns as campaign_verbs
    from tests.support.campaigns import add_subscribers, make_campaign

    with app.app_context():
        [person_id] = add_subscribers(1, first_name="Grace", company="<b>Navy</b>")
        campaign = make_campaign()
        campaign_verbs.start(campaign)
        db.session.commit()
        campaign_id = campaign.id
    worker.drain()
    with app.app_context():
        person = db.session.get(factories.Subscriber, person_id)
        followup = factories.followup(person, db.session.get(factories.Campaign, campaign_id))
        db.session.commit()
        followup_id = followup.id
    html = logged_in.get(f"/inbox/{followup_id}").get_data(as_text=True)
    assert "Coffee, Grace?" in html
    frame = logged_in.get(f"/inbox/{followup_id}/invitation")
    assert "Hi Grace," in frame.get_data(as_text=True)
    assert "&lt;b&gt;Navy&lt;/b&gt;" in frame.get_data(as_text=True)
    assert "sandbox" in frame.headers["Content-Security-Policy"]
    assert (frame.headers["Referrer-Policy"], frame.headers["Cache-Control"]) == (
        "no-referrer", "private, no-store")


@pytest.mark.parametrize("target", ["https://evil.example/phish", "//evil.example/",
                                    "/\\evil.example", "javascript:alert(1)"])
def test_back_links_and_next_fields_never_lead_off_the_site(logged_in, app, target):
    followup_id = make_conversation(app)
    html = logged_in.get(f"/inbox/{followup_id}?back={target}").get_data(as_text=True)
    assert 'class="back" href="/"' in html
    response = post_form(logged_in, f"/inbox/{followup_id}/notes", {"body": "x", "next": target})
    assert response.headers["Location"] == f"/inbox/{followup_id}"


def test_a_snooze_time_with_an_offset_is_read_as_that_moment(logged_in, app):
    followup_id = make_conversation(app)
    post_form(logged_in, f"/inbox/{followup_id}/snooze", {"until": "2099-01-01T10:00+02:00"})
    with app.app_context():
        assert db.session.get(FollowUp, followup_id).snoozed_until.hour == 8


def test_a_bulk_snooze_without_a_time_is_a_clear_error(logged_in, app):
    followup_id = make_conversation(app)
    response = post_form(logged_in, "/inbox/bulk", {"ids": [followup_id], "action": "snooze",
                                                    "preset": "", "until": "soon"},
                         page="/", follow_redirects=True)
    assert response.status_code == 200 and "not valid" in response.get_data(as_text=True)
