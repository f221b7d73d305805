"""Sending through the workers to a real SMTP server (aiosmtpd): what arrives, and the ledger."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import select

from campaigns.core import campaigns as verbs
from campaigns.core import ledger, suppression, users
from campaigns.core.unsubscribe_tokens import read_token
from campaigns.db import db
from campaigns.models import (
    Campaign,
    CampaignStatus,
    ConsentStatus,
    Delivery,
    Subscriber,
    SuppressionReason,
)
from tests.support.campaigns import add_subscribers, make_campaign, parse
from tests.support.smtp import SmtpServer


@pytest.fixture(params=[False, True], ids=["stepwise", "pipelined"])
def smtp(request):
    with SmtpServer(pipelining=request.param) as server:
        yield server


@pytest.fixture
def app_settings(smtp):
    return {"MAIL_URL": smtp.url, "SEND_BATCH_SIZE": 5, "SEND_WINDOW": 3,
            "SEND_RETRY_BACKOFF": 0, "SEND_MAX_ATTEMPTS": 3}


def send(campaign: Campaign, worker) -> dict[str, int]:  # noqa: ANN001
    """Start the campaign, run every job, return the ledger counts."""
    verbs.start(campaign)
    db.session.commit()
    worker.drain()
    db.session.expire_all()
    return ledger.counts(campaign.id)


def delivery(email: str) -> Delivery:
    return db.session.scalar(select(Delivery).where(Delivery.email == email))


def test_every_person_gets_one_personal_message_with_the_exact_headers(app_ctx, worker, smtp):
    [sid] = add_subscribers(1, prefix="ada", first_name="Ada", last_name="Lovelace",
                            company="Engines & Co")
    campaign = make_campaign(subject="Coffee, {{ first_name }}?")
    assert send(campaign, worker)["sent"] == 1
    [received] = smtp.handler.messages
    row = delivery("ada0@example.com")
    message = parse(received.data)
    assert received.sender == f"bounce+{row.reply_token}@reply.campaigns.test"
    assert received.recipients == ["ada0@example.com"]
    assert [k for k in message.keys()] == [
        "Date", "From", "To", "Subject", "Message-ID", "Reply-To", "List-Unsubscribe",
        "List-Unsubscribe-Post", "MIME-Version", "Content-Type"]
    assert message["From"] == "Olive Owner <olive@example.com>"
    assert message["To"] == "Ada Lovelace <ada0@example.com>"
    assert message["Subject"] == "Coffee, Ada?"
    assert message["Message-ID"] == row.message_id
    assert message["Reply-To"] == f"Olive Owner <reply+{row.reply_token}@reply.campaigns.test>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = message["List-Unsubscribe"].strip("<>")
    assert link.startswith("http://campaigns.test/unsubscribe/")
    claim = read_token(link.rsplit("/", 1)[1])
    assert (claim.subscriber_id, claim.campaign_id) == (sid, campaign.id)
    assert claim.names("ada0@example.com") and not claim.names("someone@example.com")
    assert parsedate_to_datetime(message["Date"]).tzinfo is not None
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain",
                                                                          "text/html"]
    assert text["Content-Transfer-Encoding"] == "quoted-printable"
    assert "Hi Ada," in text.get_content() and "Coffee at Engines & Co?" in text.get_content()
    assert "Coffee at Engines &amp; Co?" in html.get_content()
    assert f'href="{link}"' in html.get_content()
    assert f"Unsubscribe ({link})" in text.get_content()


def test_the_wire_format_has_only_crlf_line_ends_and_short_lines(app_ctx, worker, smtp):
    add_subscribers(1, fields={"bio": "line one\nline two"})
    send(make_campaign(body_text="{{ fields.bio }}\n.a line starting with a dot\n"
                                 "{{ unsubscribe_url }}\n" + "long " * 80), worker)
    data = smtp.handler.messages[0].data
    assert b"\n" not in data.replace(b"\r\n", b"")
    head, _, body = data.partition(b"\r\n\r\n")
    assert max(len(line) for line in body.split(b"\r\n")) <= 78
    assert max(len(line) for line in head.split(b"\r\n")) <= 998
    text = parse(data).get_body(("plain",)).get_content()  # MIME text lines end in CRLF
    assert "line one\r\nline two\r\n.a line starting with a dot" in text


def test_a_person_named_like_html_arrives_as_text(app_ctx, worker, smtp):
    add_subscribers(1, first_name="<img src=x onerror=alert(1)>")
    send(make_campaign(subject="Hi {{ first_name }}"), worker)
    message = parse(smtp.handler.messages[0].data)
    html = message.get_body(("html",)).get_content()
    assert "Hi &lt;img src=x onerror=alert(1)&gt;," in html
    assert "<img src=x" not in html
    assert "Hi <img src=x onerror=alert(1)>," in message.get_body(("plain",)).get_content()
    assert message["Subject"] == "Hi <img src=x onerror=alert(1)>"


def test_a_missing_first_name_falls_back_to_there(app_ctx, worker, smtp):
    add_subscribers(1, first_name="")
    send(make_campaign(subject="Hello {{ first_name | fallback('there') }}"), worker)
    message = parse(smtp.handler.messages[0].data)
    assert message["Subject"] == "Hello there"
    assert "Hi there," in message.get_body(("plain",)).get_content()


def test_non_ascii_names_and_subjects_are_encoded_and_read_back(app_ctx, worker, smtp):
    add_subscribers(1, first_name="Zoë", last_name="Ångström")
    send(make_campaign(subject="Un café, {{ first_name }} ? ☕", from_name="Olivé"), worker)
    data = smtp.handler.messages[0].data
    assert data.isascii()
    message = parse(data)
    assert message["Subject"] == "Un café, Zoë ? ☕"
    assert message["To"] == "Zoë Ångström <person0@example.com>"
    assert message["From"] == "Olivé <olive@example.com>"


def test_line_breaks_in_a_name_cannot_add_headers(app_ctx, worker, smtp):
    add_subscribers(1, first_name="Eve\r\nBcc: victim@example.com", last_name="X")
    send(make_campaign(subject="Hi {{ first_name }}\nBcc: other@example.com"), worker)
    message = parse(smtp.handler.messages[0].data)
    assert "Bcc" not in message
    assert message["To"] == '"Eve Bcc: victim@example.com X" <person0@example.com>'
    assert smtp.handler.messages[0].recipients == ["person0@example.com"]


def test_replies_go_to_the_sender_when_the_campaign_says_so(app_ctx, worker, smtp):
    add_subscribers(1)
    send(make_campaign(reply_mode="sender"), worker)
    message = parse(smtp.handler.messages[0].data)
    assert "Reply-To" not in message
    assert message["From"] == "Olive Owner <olive@example.com>"


def test_a_server_refusal_fails_the_row_with_the_servers_reason(app_ctx, worker, smtp):
    add_subscribers(2, prefix="reject")
    add_subscribers(3, prefix="ok")
    counts = send(make_campaign(), worker)
    assert (counts["failed"], counts["sent"]) == (2, 3)
    assert delivery("reject0@example.com").last_error == "RCPT TO: 550 5.1.1 No such user here"
    assert sorted(smtp.recipients()) == [f"ok{n}@example.com" for n in range(3)]


def test_a_deferral_is_retried_and_sent_once_the_server_takes_it(app_ctx, worker, smtp):
    add_subscribers(1, prefix="flaky")
    assert send(make_campaign(), worker)["sent"] == 1
    row = delivery("flaky0@example.com")
    assert (row.attempts, row.last_error) == (2, "")
    assert smtp.recipients() == ["flaky0@example.com"]


def test_a_deferral_that_lasts_fails_after_the_last_attempt(app_ctx, worker, smtp):
    add_subscribers(1, prefix="tempfail")
    assert send(make_campaign(), worker)["failed"] == 1
    row = delivery("tempfail0@example.com")
    assert row.attempts == 3
    assert row.last_error == "gave up after 3 attempts: end of data: 451 4.3.0 Try again later"


def test_a_line_dropped_after_the_data_is_uncertain_and_never_sent_again(app_ctx, worker,
                                                                         smtp):
    add_subscribers(1, prefix="drop")
    add_subscribers(4, prefix="ok")
    counts = send(make_campaign(), worker)
    assert (counts["uncertain"], counts["sent"]) == (1, 4)
    assert "connection lost after the message data" in delivery("drop0@example.com").last_error
    db.session.commit()
    worker.drain()
    assert smtp.recipients().count("drop0@example.com") == 1


def test_suppression_and_unsubscribes_are_checked_again_when_sending(app_ctx, worker, smtp):
    add_subscribers(3)
    campaign = make_campaign()
    verbs.start(campaign)
    suppression.suppress("person0@example.com", SuppressionReason.HARD_BOUNCE)
    person = db.session.scalar(select(Subscriber).where(Subscriber.email ==
                                                        "person1@example.com"))
    person.consent_status = ConsentStatus.UNSUBSCRIBED
    db.session.commit()
    worker.drain()
    assert smtp.recipients() == ["person2@example.com"]
    assert delivery("person0@example.com").state == "skipped"
    assert delivery("person0@example.com").last_error == "the address is on the suppression list"
    assert delivery("person1@example.com").last_error == "the subscriber is unsubscribed"


def test_a_paused_campaign_sends_nothing_until_resumed(app_ctx, worker, smtp):
    add_subscribers(12)
    campaign = make_campaign()
    verbs.start(campaign)
    verbs.pause(campaign)
    db.session.commit()
    worker.drain()
    assert smtp.recipients() == []
    verbs.resume(campaign)
    db.session.commit()
    worker.drain()
    db.session.expire_all()
    assert len(smtp.recipients()) == 12
    assert db.session.get(Campaign, campaign.id).status == CampaignStatus.SENT


def test_a_cancelled_campaign_sends_nothing_more(app_ctx, worker, smtp):
    add_subscribers(6)
    campaign = make_campaign()
    verbs.start(campaign)
    verbs.cancel(campaign)
    db.session.commit()
    worker.drain()
    assert smtp.recipients() == []
    assert ledger.counts(campaign.id)["cancelled"] == 6


def test_retry_failed_sends_the_failed_emails_once_the_cause_is_fixed(app_ctx, worker, smtp):
    add_subscribers(3)
    smtp.handler.refuse.add("person1@example.com")
    campaign = make_campaign()
    assert send(campaign, worker)["failed"] == 1
    smtp.handler.refuse.clear()
    assert verbs.retry_failed(db.session.get(Campaign, campaign.id)) == 1
    db.session.commit()
    worker.drain()
    db.session.expire_all()
    assert ledger.counts(campaign.id)["sent"] == 3
    assert sorted(smtp.recipients()) == [f"person{n}@example.com" for n in range(3)]


def test_a_test_send_goes_to_the_user_only_and_leaves_no_ledger_row(app_ctx, worker, smtp,
                                                                    owner):
    [sid] = add_subscribers(1, first_name="Grace")
    campaign = make_campaign()
    verbs.send_test(campaign, users.find_user("owner@example.com"), sid)
    db.session.commit()
    worker.drain()
    [received] = smtp.handler.messages
    message = parse(received.data)
    assert received.recipients == ["owner@example.com"]
    assert message["Subject"] == "[Test] Coffee, Grace?"
    assert read_token(message["List-Unsubscribe"].strip("<>").rsplit("/", 1)[1]
                      ).subscriber_id == 0
    assert ledger.counts(campaign.id)["sent"] == 0
