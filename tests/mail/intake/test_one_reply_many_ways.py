"""One reply taken in by IMAP, the webhook, LMTP and twice at once is one message, one thread."""

import smtplib
import threading

import pytest

from campaigns.db import db
from campaigns.mail.intake import imap
from campaigns.mail.intake.listener import make_listener
from campaigns.models import FollowUp, FollowUpMessage, InboundMessage
from tests.support.inbound import reply_to, sent_campaign
from tests.support.smtp import free_port

SECRET = "many-ways-secret"


@pytest.fixture
def app_settings():
    return {"INBOUND_SECRET": SECRET}


def _counts(app):
    with app.app_context():
        return tuple(db.session.scalar(db.select(db.func.count(model.id)))
                     for model in (InboundMessage, FollowUp, FollowUpMessage))


def test_the_same_reply_by_every_intake_and_twice_at_once_files_once(app, worker, dovecot):
    with app.app_context():
        [ann] = sent_campaign(["ann@example.org"])
    raw = reply_to(ann, "Yes, Tuesday works for me.")

    user = dovecot.new_user()
    dovecot.append(user, raw)
    with app.app_context():
        imap.poll(imap.parse_mailbox(dovecot.url(user)))

    listener = make_listener(app, "127.0.0.1", free_port(), lmtp=True)
    listener.start()
    try:
        with smtplib.LMTP("127.0.0.1", listener.port) as client:
            client.sendmail("ann@example.org", [ann.reply_address], raw)
    finally:
        listener.stop()

    statuses, barrier = [], threading.Barrier(3)

    def post():
        barrier.wait()
        response = app.test_client().post("/api/v1/inbound", data=raw,
                                          content_type="message/rfc822",
                                          headers={"X-Inbound-Token": SECRET})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=post) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    worker.drain()

    assert statuses == [200, 200, 200]  # IMAP stored it first; each repeat gets its id
    assert _counts(app) == (1, 1, 1)
    with app.app_context():
        message = db.session.scalar(db.select(InboundMessage))
        assert (message.received_via, message.status) == ("imap", "processed")
