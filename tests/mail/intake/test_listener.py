"""The LMTP/SMTP listener stores each message before it answers, one answer per recipient."""

import smtplib

import pytest

from campaigns.db import db
from campaigns.mail.intake.listener import make_listener
from campaigns.models import InboundMessage
from tests.support.inbound import raw_message, reply_to, sent_campaign
from tests.support.smtp import free_port


@pytest.fixture
def listen(app):
    started = []

    def start(*, lmtp, after_store=None):
        listener = make_listener(app, "127.0.0.1", free_port(), lmtp=lmtp,
                                 after_store=after_store)
        listener.start()
        started.append(listener)
        return listener

    yield start
    for listener in started:
        listener.stop()


def _rows(app):
    with app.app_context():
        return db.session.scalars(db.select(InboundMessage)).all()


def test_lmtp_stores_the_message_then_answers_once_per_recipient(app, listen):
    # smtplib's LMTP reads only one reply after DATA, so the conversation is spelled out.
    listener = listen(lmtp=True)
    with smtplib.LMTP("127.0.0.1", listener.port) as client:
        client.ehlo()
        client.mail("bounce@mx.example")
        client.rcpt("reply+a@r.test")
        client.rcpt("reply+b@r.test")
        client.putcmd("data")
        assert client.getreply()[0] == 354
        client.send(raw_message("Yes!") + b".\r\n")
        first, second = client.getreply(), client.getreply()
    assert first[0] == second[0] == 250
    assert b"Stored as inbound message" in first[1]
    [row] = _rows(app)
    assert row.received_via == "lmtp"
    assert row.details["envelope"]["rcpt_to"] == ["reply+a@r.test", "reply+b@r.test"]


def test_smtp_mode_stores_and_the_same_message_twice_is_one_row(app, listen):
    listener = listen(lmtp=False)
    raw = raw_message("Same", Message_ID="<twice@example.org>")
    for _ in range(2):
        with smtplib.SMTP("127.0.0.1", listener.port) as client:
            client.sendmail("a@b", ["replies@r.test"], raw)
    assert len(_rows(app)) == 1


def test_a_message_over_the_size_limit_is_refused_permanently(app, listen):
    app.config["INBOUND_MAX_BYTES"] = 2_000
    listener = listen(lmtp=False)
    with smtplib.SMTP("127.0.0.1", listener.port) as client:
        with pytest.raises(smtplib.SMTPException) as caught:
            client.sendmail("a@b", ["r@r.test"], raw_message("x" * 5_000))
    assert "552" in str(caught.value)
    assert _rows(app) == []


def test_a_storage_failure_answers_451_so_the_sender_retries(app, listen, monkeypatch):
    import campaigns.mail.intake.listener as module

    def broken(*args, **kwargs):
        raise RuntimeError("database is away")

    monkeypatch.setattr(module, "store_raw", broken)
    listener = listen(lmtp=True)
    with smtplib.LMTP("127.0.0.1", listener.port) as client:
        with pytest.raises(smtplib.SMTPDataError) as caught:
            client.sendmail("a@b", ["r@r.test"], raw_message("hi"))
    assert caught.value.smtp_code == 451


def test_in_one_process_mode_the_reply_is_filed_before_the_answer(app, listen):
    from campaigns.mail.intake.pipeline import process_now

    with app.app_context():
        [ann] = sent_campaign(["ann@example.org"])
    listener = listen(lmtp=True, after_store=process_now)
    with smtplib.LMTP("127.0.0.1", listener.port) as client:
        client.sendmail("ann@example.org", [ann.reply_address], reply_to(ann))
    [row] = _rows(app)
    assert (row.status, row.match_method) == ("processed", "token")
