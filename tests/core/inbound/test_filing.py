"""Filing: replies become follow-ups, absences snooze, bounces and complaints suppress."""

import json
import threading
from datetime import datetime, timedelta

import pytest

from campaigns.core.inbound import triage
from campaigns.core.inbound.followups import find_or_open_followup
from campaigns.core.inbound.process import reset_for_reprocessing
from campaigns.core.suppression import is_suppressed
from campaigns.db import db, utcnow
from campaigns.errors import Conflict
from campaigns.mail.inbound.understand import Kind, Understanding
from campaigns.mail.intake.pipeline import process_now
from campaigns.models import (
    Delivery,
    FollowUp,
    FollowUpMessage,
    FollowUpStatus,
    InboundMessage,
    Subscriber,
)
from tests.support.inbound import (
    REPLY_DOMAIN,
    bounce_for,
    out_of_office,
    raw_message,
    receive,
    reply_to,
    sent_campaign,
    store_all,
)


@pytest.fixture
def ann(app_ctx):
    return sent_campaign(["ann@example.org"])[0]


def _followups():
    return db.session.scalars(db.select(FollowUp)).all()


def _thread_texts(followup_id):
    return [m.text for m in db.session.scalars(db.select(FollowUpMessage).where(
        FollowUpMessage.followup_id == followup_id).order_by(FollowUpMessage.id))]


def test_a_human_reply_opens_a_follow_up_waiting_on_us(ann):
    message = receive(reply_to(ann, "Yes please! Tuesday?\r\n\r\n> Would you like coffee?"))
    [followup] = _followups()
    assert (message.status, message.kind, message.followup_id) == ("processed", "human",
                                                                   followup.id)
    assert (followup.subscriber_id, followup.campaign_id) == (ann.subscriber_id, ann.campaign_id)
    assert (followup.status, followup.unread, followup.waiting_on) == ("open", True, "me")
    assert _thread_texts(followup.id) == ["Yes please! Tuesday?"]
    assert db.session.get(Delivery, ann.delivery_id).replied_at is not None


def test_a_later_reply_continues_the_same_follow_up(ann):
    receive(reply_to(ann, "Yes please!"))
    followup = _followups()[0]
    followup.unread, followup.waiting_on = False, "them"
    db.session.commit()
    receive(reply_to(ann, "Oh, and can I bring a friend?"))
    [followup] = _followups()
    assert _thread_texts(followup.id) == ["Yes please!", "Oh, and can I bring a friend?"]
    assert (followup.unread, followup.waiting_on) == (True, "me")


def test_a_reply_wakes_a_follow_up_that_was_done_or_snoozed(ann):
    followup = find_or_open_followup(ann.subscriber_id, ann.campaign_id)
    followup.status, followup.closed_at = FollowUpStatus.DONE, utcnow()
    db.session.commit()
    receive(reply_to(ann, "One more thing: can we move it to Wednesday?"))
    db.session.refresh(followup)
    assert (followup.status, followup.closed_at) == ("open", None)


def test_processing_a_message_again_never_duplicates_the_thread(ann):
    message = receive(reply_to(ann, "Yes please!"))
    assert reset_for_reprocessing([message.id]) == [message.id]
    db.session.commit()
    assert process_now(message.id) == "processed"
    assert len(_followups()) == 1
    assert _thread_texts(_followups()[0].id) == ["Yes please!"]


def test_a_message_processed_twice_at_once_is_filed_once(app, ann):
    from campaigns.core.inbound.store import store_raw

    stored = store_raw(reply_to(ann, "Yes!"), "imap")
    db.session.commit()
    barrier, outcomes = threading.Barrier(2), []

    def process():
        with app.app_context():
            barrier.wait()
            outcomes.append(process_now(stored.id))
            db.session.remove()

    threads = [threading.Thread(target=process) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(map(str, outcomes)) == ["None", "processed"]
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count(FollowUpMessage.id))) == 1


def test_an_out_of_office_snoozes_the_open_follow_up_until_the_return_date(ann):
    receive(reply_to(ann, "Yes please!"))
    message = receive(out_of_office(ann, back="Monday 2 March 2099"))
    [followup] = _followups()
    assert (message.kind, message.status, str(message.return_date)) == (
        "auto_reply", "processed", "2099-03-02")
    assert (followup.status, followup.snoozed_until) == ("snoozed", datetime(2099, 3, 2))
    assert _thread_texts(followup.id) == ["Yes please!"]  # the absence note is not a message


def test_an_out_of_office_opens_no_follow_up(ann):
    message = receive(out_of_office(ann))
    assert message.kind == "auto_reply" and message.delivery_id == ann.delivery_id
    assert _followups() == []
    assert db.session.get(Delivery, ann.delivery_id).replied_at is None


def test_an_out_of_office_never_shortens_a_longer_snooze(ann):
    followup = find_or_open_followup(ann.subscriber_id, ann.campaign_id)
    followup.status, followup.snoozed_until = FollowUpStatus.SNOOZED, datetime(2100, 1, 1)
    db.session.commit()
    receive(out_of_office(ann, back="Monday 2 March 2099"))
    db.session.refresh(followup)
    assert followup.snoozed_until == datetime(2100, 1, 1)


def test_a_hard_bounce_marks_the_delivery_and_suppresses_the_address(ann):
    message = receive(bounce_for(ann, "5.1.1"))
    delivery = db.session.get(Delivery, ann.delivery_id)
    assert (message.kind, message.status, message.delivery_id) == ("bounce", "processed",
                                                                   ann.delivery_id)
    assert delivery.bounced_at is not None
    assert is_suppressed("ann@example.org")
    assert _followups() == []


@pytest.fixture
def app_settings():
    return {"SOFT_BOUNCE_LIMIT": 2}


def test_soft_bounces_are_counted_and_suppress_at_the_limit(app_ctx):
    first, second = sent_campaign(["cy@example.org"], "One") + sent_campaign(["cy@example.org"],
                                                                              "Two")
    receive(bounce_for(first, "4.2.2"))
    assert db.session.get(Subscriber, first.subscriber_id).soft_bounces == 1
    assert not is_suppressed("cy@example.org")
    assert db.session.get(Delivery, first.delivery_id).bounced_at is None
    receive(bounce_for(second, "4.2.2"))
    assert db.session.get(Subscriber, first.subscriber_id).soft_bounces == 2
    assert is_suppressed("cy@example.org")


def test_a_soft_bounce_processed_again_is_counted_once(ann):
    message = receive(bounce_for(ann, "4.2.2"))
    reset_for_reprocessing([message.id])
    db.session.commit()
    process_now(message.id)
    db.session.expire_all()
    assert db.session.get(Subscriber, ann.subscriber_id).soft_bounces == 1


def test_a_bounce_about_an_address_we_never_wrote_to_suppresses_nothing(ann):
    forged = bounce_for(ann, "5.1.1").replace(b"ann@example.org", b"victim@example.org")
    forged = forged.replace(ann.message_id.encode(), b"<made-up@elsewhere>")
    message = receive(forged)
    assert message.kind == "bounce"
    assert not is_suppressed("victim@example.org")
    assert not is_suppressed("ann@example.org")


def _without_proof(raw: bytes, sent) -> bytes:
    """Return a report with the delivery's Message-ID made up: it proves nothing any more."""
    return raw.replace(sent.message_id.encode(), b"<made-up@elsewhere.example>")


def test_a_bounce_that_names_none_of_our_messages_waits_unverified_and_changes_nothing(ann):
    message = receive(_without_proof(bounce_for(ann, "5.1.1"), ann))
    assert (message.kind, message.status) == ("bounce", "unverified")
    assert message.subscriber_id == ann.subscriber_id  # still shown on their timeline
    assert not is_suppressed("ann@example.org")
    assert db.session.get(Delivery, ann.delivery_id).bounced_at is None


def test_a_bounce_sent_to_a_token_of_ours_cannot_suppress_someone_else(app_ctx):
    mallory, victim = sent_campaign(["mallory@example.org", "victim@example.org"])
    forged = _without_proof(bounce_for(victim, "5.1.1", To=mallory.reply_address), victim)
    message = receive(forged)
    assert message.status == "unverified"
    assert not is_suppressed("victim@example.org")
    assert not is_suppressed("mallory@example.org")


def test_a_bounce_quoting_another_persons_message_id_cannot_suppress_the_victim(app_ctx):
    mallory, victim = sent_campaign(["mallory@example.org", "victim@example.org"])
    forged = bounce_for(victim, "5.1.1").replace(victim.message_id.encode(),
                                                 mallory.message_id.encode())
    receive(forged)
    assert not is_suppressed("victim@example.org")


def test_a_bounce_to_our_bounce_token_return_path_is_proof_enough(ann):
    raw = _without_proof(bounce_for(ann, "5.1.1", To=f"bounce+{ann.token}@{REPLY_DOMAIN}"), ann)
    message = receive(raw)
    assert (message.status, message.match_method, message.delivery_id) == (
        "processed", "token", ann.delivery_id)
    assert is_suppressed("ann@example.org")


def test_a_bounce_of_a_follow_up_reply_we_sent_is_proof_for_that_conversation(ann):
    receive(reply_to(ann, "Happy to talk."))
    followup = _followups()[0]
    ours = FollowUpMessage(followup_id=followup.id, direction="outbound", text="Great!",
                           subject="Re: Coffee?", message_id="<our-reply-1@campaigns.test>")
    db.session.add(ours)
    db.session.commit()
    raw = bounce_for(ann, "5.1.1").replace(ann.message_id.encode(), ours.message_id.encode())
    message = receive(raw)
    assert message.status == "processed"
    assert is_suppressed("ann@example.org")


def test_an_unverified_bounce_applied_by_a_user_suppresses_as_it_says(ann):
    message = receive(_without_proof(bounce_for(ann, "5.1.1"), ann))
    applied = triage.apply_report(message.id)
    db.session.commit()
    assert applied.status == "processed"
    assert is_suppressed("ann@example.org")
    assert db.session.get(Delivery, ann.delivery_id).bounced_at is not None
    with pytest.raises(Conflict):
        triage.apply_report(message.id)


def test_a_bounce_that_pastes_the_returned_headers_inline_is_proof_enough(ann):
    body = ("This is the mail system at host mx.example.org.\r\n\r\n"
            "Delivery to the following recipient failed permanently:\r\n\r\n"
            "     ann@example.org\r\n\r\n"
            "Technical details of permanent failure:\r\n"
            "550 5.1.1 The email account that you tried to reach does not exist.\r\n\r\n"
            "----- Original message -----\r\n\r\n"
            f"Message-ID: {ann.message_id}\r\nSubject: Coffee?\r\n")
    raw = raw_message(body, From="Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
                      To="host@campaigns.test", Subject="Delivery Status Notification (Failure)")
    message = receive(raw)
    assert (message.kind, message.status) == ("bounce", "processed")
    assert is_suppressed("ann@example.org")


def test_an_original_message_id_with_a_comment_still_proves_the_bounce(ann):
    raw = bounce_for(ann, "5.1.1").replace(f"Message-ID: {ann.message_id}".encode(),
                                           f"Message-ID: {ann.message_id} (our id)".encode())
    assert receive(raw).status == "processed"
    assert is_suppressed("ann@example.org")


def test_an_ses_notification_proves_itself_by_the_message_id_it_reports(ann):
    notice = {"notificationType": "Bounce", "bounce": {
        "bounceType": "Permanent", "bounceSubType": "General",
        "bouncedRecipients": [{"emailAddress": "ann@example.org", "status": "5.1.1",
                               "diagnosticCode": "smtp; 550 5.1.1 user unknown"}]},
        "mail": {"messageId": "0100019561a2b3c4", "commonHeaders": {
            "messageId": ann.message_id}}}
    raw = raw_message(json.dumps({"Type": "Notification", "Message": json.dumps(notice)}),
                      From="no-reply@sns.amazonaws.example", To="bounces@campaigns.test",
                      Subject="AWS Notification Message", x_amz_sns_message_id="5d2a2c9e")
    message = receive(raw)
    assert (message.kind, message.status) == ("bounce", "processed")
    assert is_suppressed("ann@example.org")


def test_a_report_proving_one_address_acts_on_it_and_waits_for_the_other(app_ctx):
    ann, bob = sent_campaign(["ann@example.org", "bob@example.org"])
    raw = bounce_for(ann, "5.1.1").replace(
        b"Final-Recipient: rfc822; ann@example.org\r\n",
        b"Final-Recipient: rfc822; ann@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"\r\nFinal-Recipient: rfc822; bob@example.org\r\n")
    message = receive(raw)
    assert message.status == "unverified"
    assert is_suppressed("ann@example.org") and not is_suppressed("bob@example.org")


def test_processing_an_applied_report_again_keeps_the_users_decision(ann):
    message = receive(_without_proof(bounce_for(ann, "4.2.2"), ann))
    triage.apply_report(message.id, user_id=None)
    db.session.commit()
    reset_for_reprocessing([message.id])
    db.session.commit()
    process_now(message.id)
    db.session.expire_all()
    assert db.session.get(InboundMessage, message.id).status == "processed"
    assert db.session.get(Subscriber, ann.subscriber_id).soft_bounces == 1


def test_a_report_that_no_longer_reads_as_one_cannot_be_applied(ann, monkeypatch):
    message = receive(_without_proof(bounce_for(ann, "5.1.1"), ann))
    monkeypatch.setattr(triage, "understand", lambda raw: Understanding(Kind.HUMAN))
    with pytest.raises(Conflict, match="no longer reads"):
        triage.apply_report(message.id)
    assert not is_suppressed("ann@example.org")


def test_a_complaint_that_names_none_of_our_messages_waits_unverified(ann):
    body = ("--arf\r\nContent-Type: message/feedback-report\r\n\r\n"
            "Feedback-Type: abuse\r\nUser-Agent: Example-FBL/1.0\r\nVersion: 1\r\n"
            "Original-Rcpt-To: ann@example.org\r\n\r\n--arf--")
    raw = raw_message(body, From="fbl@isp.example", To="abuse@campaigns.test",
                      Subject="Complaint", Content_Type='multipart/report; '
                      'report-type=feedback-report; boundary="arf"')
    message = receive(raw)
    assert (message.kind, message.status) == ("complaint", "unverified")
    assert not is_suppressed("ann@example.org")


def test_a_spam_complaint_suppresses_the_address(ann):
    boundary = "arf"
    body = (f"--{boundary}\r\nContent-Type: text/plain\r\n\r\nThis is an abuse report.\r\n"
            f"--{boundary}\r\nContent-Type: message/feedback-report\r\n\r\n"
            f"Feedback-Type: abuse\r\nUser-Agent: Example-FBL/1.0\r\nVersion: 1\r\n"
            f"Original-Rcpt-To: ann@example.org\r\n\r\n"
            f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
            f"From: host@campaigns.test\r\nTo: ann@example.org\r\n"
            f"Message-ID: {ann.message_id}\r\n\r\n--{boundary}--")
    raw = raw_message(body, From="fbl@isp.example", To="abuse@campaigns.test",
                      Subject="Complaint", Content_Type=f'multipart/report; '
                      f'report-type=feedback-report; boundary="{boundary}"')
    message = receive(raw)
    assert message.kind == "complaint"
    assert is_suppressed("ann@example.org")


def test_a_written_unsubscribe_request_waits_for_confirmation(ann):
    message = receive(reply_to(ann, "Please remove me from your mailing list."))
    assert (message.kind, message.status, message.subscriber_id) == (
        "unsubscribe", "to_confirm", ann.subscriber_id)
    assert not is_suppressed("ann@example.org")
    assert _followups() == []


def test_a_delay_notice_is_processed_without_any_effect(ann):
    raw = bounce_for(ann, "4.4.7").replace(b"Action: failed", b"Action: delayed")
    message = receive(raw)
    assert message.status == "processed"
    assert not is_suppressed("ann@example.org")
    assert db.session.get(Subscriber, ann.subscriber_id).soft_bounces == 0


def test_a_copy_of_our_own_mail_is_not_filed_as_a_reply(ann):
    raw = raw_message("Would you like coffee?", From="host@campaigns.test",
                      To="ann@example.org", Message_ID=ann.message_id)
    message = receive(raw)
    assert message.status == "processed"
    assert _followups() == []


def test_a_processing_failure_keeps_the_message_for_review_and_it_can_be_retried(
        ann, monkeypatch):
    import campaigns.core.inbound.process as process

    raw = reply_to(ann, "Yes please!")
    with monkeypatch.context() as patch:
        patch.setattr(process, "understand", lambda raw: 1 / 0)
        message = receive(raw)
    assert message.status == "needs_review"
    assert "ZeroDivisionError" in message.parse_errors
    assert message.raw == raw
    assert reset_for_reprocessing(failed_only=True) == [message.id]
    db.session.commit()
    assert process_now(message.id) == "processed"
    assert len(_followups()) == 1


def test_an_out_of_office_with_a_past_return_date_changes_nothing(ann):
    receive(reply_to(ann, "Yes please!"))
    past = (utcnow() - timedelta(days=400)).strftime("%A %d %B %Y")
    receive(out_of_office(ann, back=past))
    assert _followups()[0].status == "open"


def test_an_unparseable_message_is_kept_for_review(ann, app_ctx):
    app_ctx.config["INBOUND_MAX_BYTES"] = 50 * 1024 * 1024
    raw = raw_message("x", From="ann@example.org") + b"y" * (26 * 1024 * 1024)
    message = receive(raw)
    assert message.status == "needs_review"
    assert db.session.get(InboundMessage, message.id).size == len(raw)


def test_a_batch_opens_one_follow_up_for_two_first_replies_of_one_person(ann):
    from campaigns.mail.intake.pipeline import process_batch

    ids = store_all([reply_to(ann, "Yes!"), reply_to(ann, "And my colleague too?")])
    assert process_batch(ids) == {ids[0]: "processed", ids[1]: "processed"}
    [followup] = _followups()
    assert _thread_texts(followup.id) == ["Yes!", "And my colleague too?"]


def test_a_reply_to_a_message_earlier_in_the_same_batch_follows_it(app_ctx):
    from campaigns.mail.intake.pipeline import process_batch

    ann, = sent_campaign(["ann@example.org"], name="One")
    sent_campaign(["ann@example.org"], name="Two")  # her latest delivery is another campaign
    first = reply_to(ann, "Yes!", Message_ID="<first@mail.example.org>")
    second = raw_message("P.S. Tuesday is best.", From="ann@example.org",
                         In_Reply_To="<first@mail.example.org>")
    ids = store_all([first, second])
    process_batch(ids)
    [followup] = _followups()
    assert followup.campaign_id == ann.campaign_id
    assert db.session.get(InboundMessage, ids[1]).match_method == "headers"


def test_one_bad_message_in_a_batch_is_kept_for_review_and_the_rest_filed(ann, monkeypatch):
    import campaigns.core.inbound.process as process
    from campaigns.mail.inbound.understand import understand
    from campaigns.mail.intake.pipeline import process_batch

    def fragile(raw):
        if b"poison" in raw:
            raise RuntimeError("a bug in understanding")
        return understand(raw)

    monkeypatch.setattr(process, "understand", fragile)
    ids = store_all([reply_to(ann, "Yes!"), reply_to(ann, "poison"), reply_to(ann, "Also.")])
    statuses = process_batch(ids)
    assert [statuses[i] for i in ids] == ["processed", "needs_review", "processed"]
    assert _thread_texts(_followups()[0].id) == ["Yes!", "Also."]
