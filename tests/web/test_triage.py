"""The triage pages: link unmatched replies, confirm unsubscribe requests, apply unverified
bounces, retry failures."""

import pytest

from campaigns.core.suppression import is_suppressed
from campaigns.db import db
from campaigns.models import (
    ConsentEvent,
    FollowUp,
    InboundMessage,
    InboundStatus,
    Subscriber,
)
from tests.support.inbound import (  # noqa: F401 - parked_jobs is a fixture
    bounce_for,
    parked_jobs,
    raw_message,
    receive,
    reply_to,
    sent_campaign,
)
from tests.support.web import post_form

pytestmark = pytest.mark.usefixtures("parked_jobs")


@pytest.fixture
def stranger(app):
    with app.app_context():
        message = receive(raw_message("Hi! A friend forwarded me your invitation. Count me in.",
                                      From="Dee Stranger <dee@example.net>",
                                      Subject="Your coffee invitation"))
        assert message.status == "unmatched"
        return message.id


def _message(app, inbound_id):
    with app.app_context():
        message = db.session.get(InboundMessage, inbound_id)
        db.session.expunge(message)
        return message


def test_an_unmatched_reply_waits_in_triage_and_the_inbox_links_to_it(logged_in, stranger):
    inbox = logged_in.get("/").get_data(as_text=True)
    assert 'href="/triage/"' in inbox
    page = logged_in.get("/triage/").get_data(as_text=True)
    assert "Dee Stranger" in page and "Your coffee invitation" in page
    assert "Count me in." in logged_in.get(f"/triage/{stranger}").get_data(as_text=True)


def test_linking_it_to_a_subscriber_files_it_as_their_reply(logged_in, app, stranger):
    with app.app_context():
        [dee] = sent_campaign(["dee@example.org"])
    response = post_form(logged_in, f"/triage/{stranger}/link",
                         {"email": "dee@example.org", "campaign_id": "0"})
    assert response.status_code == 302
    message = _message(app, stranger)
    assert (message.status, message.match_method, message.subscriber_id) == (
        "processed", "manual", dee.subscriber_id)
    with app.app_context():
        followup = db.session.scalar(db.select(FollowUp))
        assert (followup.subscriber_id, followup.campaign_id) == (dee.subscriber_id,
                                                                  dee.campaign_id)


def test_linking_to_an_address_not_on_the_list_asks_before_adding_them(logged_in, app, stranger):
    response = post_form(logged_in, f"/triage/{stranger}/link",
                         {"email": "dee@example.net", "campaign_id": "0"}, follow_redirects=True)
    assert "No subscriber has the address dee@example.net" in response.get_data(as_text=True)
    assert _message(app, stranger).status == "unmatched"
    post_form(logged_in, f"/triage/{stranger}/link",
              {"email": "dee@example.net", "campaign_id": "0", "create": "y"})
    assert _message(app, stranger).status == "processed"
    with app.app_context():
        dee = db.session.scalar(db.select(Subscriber).where(Subscriber.email == "dee@example.net"))
        assert (dee.first_name, dee.last_name) == ("Dee", "Stranger")
        assert db.session.scalar(db.select(FollowUp.subscriber_id)) == dee.id


def test_a_dismissed_message_leaves_the_list(logged_in, app, stranger):
    post_form(logged_in, f"/triage/{stranger}/dismiss")
    assert _message(app, stranger).status == "dismissed"
    assert "Dee Stranger" not in logged_in.get("/triage/").get_data(as_text=True)


def test_a_decision_on_a_message_already_handled_is_refused(logged_in, app, stranger):
    post_form(logged_in, f"/triage/{stranger}/dismiss")
    response = post_form(logged_in, f"/triage/{stranger}/dismiss", follow_redirects=True)
    assert "Only messages waiting in triage" in response.get_data(as_text=True)


@pytest.fixture
def unsubscribe_request(app):
    with app.app_context():
        [ann] = sent_campaign(["ann@example.org"])
        message = receive(reply_to(ann, "Please unsubscribe me from this list."))
        assert message.status == InboundStatus.TO_CONFIRM
        return message.id, ann


def test_confirming_an_unsubscribe_request_unsubscribes_and_suppresses(logged_in, app,
                                                                       unsubscribe_request):
    inbound_id, ann = unsubscribe_request
    assert "Please unsubscribe me" in logged_in.get("/triage/?list=unsubscribe").get_data(
        as_text=True)
    post_form(logged_in, f"/triage/{inbound_id}/confirm-unsubscribe")
    with app.app_context():
        subscriber = db.session.get(Subscriber, ann.subscriber_id)
        assert (subscriber.consent_status, subscriber.consent_source) == ("unsubscribed",
                                                                          "reply")
        assert is_suppressed("ann@example.org")
        assert db.session.scalar(db.select(ConsentEvent.detail)).endswith(f"{inbound_id})")
    assert _message(app, inbound_id).status == "processed"


def test_a_request_that_is_really_a_reply_can_be_filed_as_one(logged_in, app,
                                                              unsubscribe_request):
    inbound_id, ann = unsubscribe_request
    post_form(logged_in, f"/triage/{inbound_id}/treat-as-reply")
    assert (_message(app, inbound_id).status, _message(app, inbound_id).kind) == (
        "processed", "human")
    with app.app_context():
        assert not is_suppressed("ann@example.org")
        assert db.session.scalar(db.select(FollowUp.subscriber_id)) == ann.subscriber_id


def test_an_unverified_bounce_is_explained_and_applied_only_on_request(logged_in, app):
    with app.app_context():
        [ann] = sent_campaign(["ann@example.org"])
        raw = bounce_for(ann, "5.1.1").replace(ann.message_id.encode(), b"<made-up@x.example>")
        inbound_id = receive(raw).id
    assert "Undelivered Mail" in logged_in.get("/triage/?list=unverified").get_data(as_text=True)
    page = logged_in.get(f"/triage/{inbound_id}").get_data(as_text=True)
    assert "nothing was changed" in page
    assert "mark the email bounced and suppress\n  <strong>ann@example.org</strong>." in page
    person = logged_in.get(f"/subscribers/{ann.subscriber_id}").get_data(as_text=True)
    assert "unverified: nothing was changed" in person
    with app.app_context():
        assert not is_suppressed("ann@example.org")
    post_form(logged_in, f"/triage/{inbound_id}/apply-report")
    assert _message(app, inbound_id).status == "processed"
    with app.app_context():
        assert is_suppressed("ann@example.org")


def test_a_failed_message_can_be_queued_again(logged_in, app, monkeypatch, request):
    import campaigns.core.inbound.process as process

    parked = request.getfixturevalue("parked_jobs")
    with app.app_context():
        monkeypatch.setattr(process, "understand", lambda raw: 1 / 0)
        inbound_id = receive(raw_message("hello")).id
    assert "ZeroDivisionError" in logged_in.get("/triage/?list=failed").get_data(as_text=True)
    post_form(logged_in, f"/triage/{inbound_id}/reprocess")
    assert _message(app, inbound_id).status == "stored"
    assert ("inbound.process", (inbound_id,)) in parked


def test_sender_controlled_text_is_shown_escaped(logged_in, app):
    with app.app_context():
        inbound_id = receive(raw_message("<img src=x onerror=alert(1)>",
                                         From='"<script>alert(1)</script>" <x@example.net>',
                                         Subject="<b>bold</b>")).id
    page = logged_in.get(f"/triage/{inbound_id}").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "<img src=x" not in page and "<b>bold" not in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page
