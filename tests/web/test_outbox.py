"""The demo loop: a sent email in the file outbox, answered as its recipient, lands in the Inbox."""

import pytest

from campaigns.core import demo
from campaigns.db import db
from campaigns.models import FollowUp
from tests.core.test_demo import sent_email
from tests.support import factories
from tests.support.web import post_form


@pytest.fixture
def app_settings():
    return {"MAIL_URL": "file://"}


@pytest.fixture
def sent(app):
    """A delivery and the email it produced, written to the outbox as the file backend does."""
    with app.app_context():
        person = factories.subscriber("ann@example.com", first_name="Ann")
        delivery = factories.delivery(factories.campaign(), person)
        raw = sent_email().replace(b"tok123", delivery.reply_token.encode()).replace(
            b"<d1@campaigns.test>", delivery.message_id.encode())
        db.session.commit()
        folder = demo.outbox_dir()
        folder.mkdir(parents=True)
        (folder / "20261127T100000-a.eml").write_bytes(raw)
    return "20261127T100000-a.eml"


def test_the_outbox_lists_the_sent_email(logged_in, sent):
    html = logged_in.get("/outbox/").get_data(as_text=True)
    assert "Coffee next week?" in html and "ann@example.com" in html


def test_the_sent_email_is_served_as_an_inert_uncached_frame(logged_in, sent):
    frame = logged_in.get(f"/outbox/{sent}/html")
    policy = frame.headers["Content-Security-Policy"]
    assert "sandbox" in policy and "script-src" not in policy and "https:" not in policy
    assert (frame.headers["Referrer-Policy"], frame.headers["Cache-Control"]) == (
        "no-referrer", "private, no-store")


def test_replying_as_the_recipient_opens_a_conversation(logged_in, app, sent, worker):
    response = post_form(logged_in, f"/outbox/{sent}/reply", {"text": "Tuesday works!"})
    assert response.headers["Location"] == "/"
    worker.drain()
    with app.app_context():
        followup = db.session.scalar(db.select(FollowUp))
        assert followup.subscriber.email == "ann@example.com"
        assert followup.messages[0].text == "Tuesday works!"


def test_an_unknown_outbox_file_is_a_404(logged_in, sent):
    assert logged_in.get("/outbox/nothing.eml").status_code == 404
