"""IMAP polling against a real Dovecot: checkpointed, read-only for its owner, never deletes."""

import threading
import time

import pytest

from campaigns.db import db
from campaigns.errors import ConfigurationError
from campaigns.mail.intake import imap
from campaigns.mail.intake.pipeline import process_all
from campaigns.models import FollowUp, FollowUpMessage, InboundMessage, MailboxCheckpoint
from tests.support.inbound import raw_message, reply_to, sent_campaign


@pytest.fixture
def user(dovecot):
    return dovecot.new_user()


@pytest.fixture
def ann(app_ctx):
    return sent_campaign(["ann@example.org"])[0]


def _count(model):
    return db.session.scalar(db.select(db.func.count(model.id)))


def test_polling_twice_files_once_and_leaves_the_mailbox_as_it_was(dovecot, user, ann):
    dovecot.append(user, reply_to(ann, "Yes, Tuesday works."))
    dovecot.append(user, raw_message("Who are you?", From="stranger@example.net"))
    before = dovecot.messages(user)
    config = imap.parse_mailbox(dovecot.url(user))

    first = imap.poll(config)
    process_all(first.stored)
    second = imap.poll(config)
    process_all(second.stored)

    assert (first.seen, len(first.stored), second.seen, len(second.stored)) == (2, 2, 0, 0)
    assert (_count(InboundMessage), _count(FollowUp), _count(FollowUpMessage)) == (2, 1, 1)
    after = dovecot.messages(user)
    assert after == before  # same UIDs, same flags: nothing read, nothing deleted
    assert all(b"\\Seen" not in flags and b"\\Deleted" not in flags for flags in after.values())


def test_mail_arriving_later_is_read_from_the_checkpoint(dovecot, user, app_ctx):
    config = imap.parse_mailbox(dovecot.url(user))
    dovecot.append(user, raw_message("first"))
    imap.poll(config)
    dovecot.append(user, raw_message("second"))
    report = imap.poll(config)
    assert (report.seen, len(report.stored)) == (1, 1)
    checkpoint = db.session.scalar(db.select(MailboxCheckpoint))
    assert (checkpoint.mailbox, checkpoint.last_uid) == (config.key, 2)
    assert "imap-test-password" not in checkpoint.mailbox


def test_a_new_uidvalidity_reads_everything_again_without_duplicates(dovecot, user, app_ctx):
    config = imap.parse_mailbox(dovecot.url(user))
    dovecot.append(user, raw_message("one"))
    dovecot.append(user, raw_message("two"))
    imap.poll(config)
    db.session.scalar(db.select(MailboxCheckpoint)).uidvalidity = 1  # as after a server rebuild
    db.session.commit()
    report = imap.poll(config)
    assert (report.seen, len(report.stored), report.duplicates) == (2, 0, 2)
    assert _count(InboundMessage) == 2


def test_stored_mail_can_be_moved_to_a_folder_still_unread(dovecot, user, app_ctx):
    dovecot.append(user, raw_message("one"))
    dovecot.append(user, raw_message("two"))
    config = imap.parse_mailbox({"url": dovecot.url(user), "move_to": "Processed"})
    report = imap.poll(config)
    assert report.moved == 2
    assert dovecot.messages(user) == {}
    moved = dovecot.messages(user, "Processed")
    assert len(moved) == 2
    assert all(b"\\Seen" not in flags and b"\\Deleted" not in flags for flags in moved.values())
    assert imap.poll(config).seen == 0


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_tls_mailboxes_are_read_with_a_verified_certificate(dovecot, user, app_ctx, security):
    dovecot.append(user, raw_message("over TLS"))
    config = imap.parse_mailbox({"url": dovecot.url(user, security=security),
                                 "ca_file": dovecot.ca_file})
    assert config.security == security
    assert len(imap.poll(config).stored) == 1


def test_an_untrusted_certificate_is_refused(dovecot, user, app_ctx):
    config = imap.parse_mailbox(dovecot.url(user, security="ssl"))
    with pytest.raises(Exception, match="CERTIFICATE_VERIFY_FAILED"):
        imap.poll(config)


def test_a_message_over_the_size_cap_is_left_in_the_mailbox_and_noted(dovecot, user, app_ctx):
    app_ctx.config["INBOUND_MAX_BYTES"] = 5_000
    dovecot.append(user, raw_message("x" * 10_000))
    dovecot.append(user, raw_message("small"))
    report = imap.poll(imap.parse_mailbox(dovecot.url(user)))
    assert (report.seen, len(report.stored)) == (2, 1)
    assert "UID 1: over 5000 bytes" in db.session.scalar(db.select(MailboxCheckpoint)).last_error
    assert len(dovecot.messages(user)) == 2


def test_idle_notices_new_mail_within_seconds(dovecot, user, app):
    config = imap.parse_mailbox(dovecot.url(user))
    stop, reports = threading.Event(), []

    def watch():
        with app.app_context():
            imap.watch(config, stop, reports.append, check_every=0.2)

    thread = threading.Thread(target=watch)
    thread.start()
    try:
        _wait_for(lambda: len(reports) >= 1)  # the first poll, before idling
        dovecot.append(user, raw_message("arrives while idling"))
        _wait_for(lambda: sum(len(r.stored) for r in reports) == 1)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()


def _wait_for(condition, seconds=10.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.parametrize("url, message", [
    ("imap://u:p@mail.example.com/INBOX", "unencrypted"),
    ("pop3://u:p@mail.example.com/", "looks like"),
    ("imaps://mail.example.com/INBOX", "looks like"),
])
def test_bad_mailbox_settings_are_refused_clearly(url, message):
    with pytest.raises(ConfigurationError, match=message):
        imap.parse_mailbox(url)


def test_mailbox_urls_default_their_port_and_folder():
    config = imap.parse_mailbox("imaps://replies%40example.com:p%2Fw@mail.example.com")
    assert (config.username, config.password, config.port, config.folder) == (
        "replies@example.com", "p/w", 993, "INBOX")
