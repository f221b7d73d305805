"""`campaigns inbound …`: inspect without a database; import, poll, listen and reprocess."""

import json
import smtplib
import threading
import time

import pytest
from click.testing import CliRunner

from campaigns.cli import main
from campaigns.db import db
from campaigns.models import FollowUp, InboundMessage
from tests.support.inbound import raw_message, receive, reply_to, sent_campaign
from tests.support.smtp import free_port


@pytest.fixture
def in_process(app):
    """Run the commands as in one-process mode: they process what they store."""
    app.config["BROKER_URL"] = ""
    return app


def _statuses(app):
    with app.app_context():
        return sorted(db.session.scalars(db.select(InboundMessage.status)))


def test_inspect_needs_no_database(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    monkeypatch.setenv("CAMPAIGNS_INSTANCE_PATH", str(instance))
    monkeypatch.setenv("CAMPAIGNS_DATABASE_URL", "postgresql://nobody@127.0.0.1:9/missing")
    eml = tmp_path / "reply.eml"
    eml.write_bytes(raw_message("Yes, count me in!\r\n\r\n> Would you like to join?"))
    result = CliRunner().invoke(main, ["inbound", "inspect", str(eml), str(tmp_path / "gone")])
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert result.exit_code == 1  # one file could not be read; the other was still printed
    assert (lines[0]["kind"], lines[0]["new_text"], lines[0]["matched"]) == (
        "human", "Yes, count me in!", None)
    assert lines[1]["kind"] == "unknown" and "error" in lines[1]
    assert not list(instance.glob("*.sqlite3"))


def test_import_stores_and_in_one_process_mode_files_the_messages(runner, in_process, tmp_path):
    with in_process.app_context():
        [ann] = sent_campaign(["ann@example.org"])
    folder = tmp_path / "mail"
    folder.mkdir()
    (folder / "a.eml").write_bytes(reply_to(ann, "Yes!"))
    (folder / "b.eml").write_bytes(raw_message("Who is this?", From="x@example.net"))
    result = runner.invoke(args=["inbound", "import", str(folder)])
    assert result.exit_code == 0, result.output
    assert "Stored 2 new message(s); 0 already known; 0 refused." in result.output
    assert _statuses(in_process) == ["processed", "unmatched"]


def test_poll_reads_a_mailbox_given_on_the_command_line(runner, in_process, dovecot):
    user = dovecot.new_user()
    dovecot.append(user, raw_message("hello"))
    result = runner.invoke(args=["inbound", "poll", "--mailbox", dovecot.url(user)])
    assert result.exit_code == 0, result.output
    assert "1 new, 1 stored, 0 already known, 0 moved." in result.output
    assert "imap-test-password" not in result.output
    assert _statuses(in_process) == ["unmatched"]


def test_poll_without_any_mailbox_says_how_to_configure_one(runner):
    result = runner.invoke(args=["inbound", "poll"])
    assert result.exit_code != 0
    assert "IMAP_MAILBOXES" in result.output


def test_poll_idle_watches_the_configured_mailboxes_until_told_to_stop(runner, in_process,
                                                                       dovecot):
    user = dovecot.new_user()
    in_process.config["IMAP_MAILBOXES"] = [{"url": dovecot.url(user)}]
    dovecot.append(user, raw_message("already there"))
    result = runner.invoke(args=["inbound", "poll", "--idle", "--seconds", "1"])
    assert result.exit_code == 0, result.output
    assert "Watching 1 mailbox(es)" in result.output
    assert _statuses(in_process) == ["unmatched"]


def test_listen_stores_what_a_mail_server_hands_over(runner, in_process):
    port = free_port()
    thread = threading.Thread(target=runner.invoke, kwargs={"args": [
        "inbound", "listen", "--port", str(port), "--lmtp", "--seconds", "3"]})
    thread.start()
    deadline = time.monotonic() + 5
    while True:
        try:
            client = smtplib.LMTP("127.0.0.1", port)
            break
        except OSError:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    with client:
        client.sendmail("a@b.example", ["replies@r.test"], raw_message("over LMTP"))
    thread.join()
    assert _statuses(in_process) == ["unmatched"]


def test_reprocess_takes_ids_or_all_failed(runner, in_process, monkeypatch):
    import campaigns.core.inbound.process as process

    with in_process.app_context():
        [ann] = sent_campaign(["ann@example.org"])
        with monkeypatch.context() as patch:
            patch.setattr(process, "understand", lambda raw: 1 / 0)
            failed = receive(reply_to(ann, "Yes!")).id
    result = runner.invoke(args=["inbound", "reprocess", "--all-failed"])
    assert result.exit_code == 0, result.output
    assert "Queued 1 message(s)" in result.output and "1 processed" in result.output
    with in_process.app_context():
        assert db.session.scalar(db.select(FollowUp.subscriber_id)) == ann.subscriber_id
    result = runner.invoke(args=["inbound", "reprocess", str(failed), "999"])
    assert "No such message(s): 999" in result.output
    assert _statuses(in_process) == ["processed"]


def test_reprocess_without_ids_or_flag_is_a_usage_error(runner):
    result = runner.invoke(args=["inbound", "reprocess"])
    assert result.exit_code == 2
    assert "--all-failed" in result.output
