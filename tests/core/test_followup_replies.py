"""One-on-one replies: threaded, sent once through the workers, never to a suppressed person."""

from email import message_from_bytes

import pytest

from campaigns.core import followup_replies
from campaigns.core.suppression import suppress
from campaigns.db import db
from campaigns.errors import Forbidden, ValidationError
from campaigns.mail.backends.memory import MemoryBackend
from campaigns.models import (
    Delivery,
    DeliveryState,
    FollowUpMessage,
    SuppressionReason,
)
from tests.support import factories


@pytest.fixture
def conversation(app_ctx):
    person = factories.subscriber("ann@example.com", first_name="Ann", last_name="Lee")
    campaign = factories.campaign(subject="Coffee next week?")
    delivery = factories.delivery(campaign, person)
    followup = factories.followup(person, campaign, text="Sure, Tuesday?", delivery_id=delivery.id)
    first = followup.messages[0]
    first.message_id, first.subject = "<their-1@example.com>", "Re: Coffee next week?"
    first.references = f"{delivery.message_id}"
    db.session.commit()
    return followup


def sent_messages():
    return [message_from_bytes(e.data) for e in MemoryBackend.outbox]


def test_a_reply_is_threaded_quoted_and_sent_from_the_campaign_sender(conversation, worker):
    followup_replies.write_reply(conversation, None, "Tuesday 10am works.")
    db.session.commit()
    worker.drain()
    [mail] = sent_messages()
    assert mail["To"] == "Ann Lee <ann@example.com>"
    assert mail["From"] == "Olive <olive@example.com>"
    assert mail["Subject"] == "Re: Coffee next week?"
    assert mail["In-Reply-To"] == "<their-1@example.com>"
    assert "<their-1@example.com>" in mail["References"]
    token = conversation.subscriber and db.session.scalar(db.select(Delivery.reply_token))
    assert mail["Reply-To"] == f"Olive <reply+{token}@reply.campaigns.test>"
    body = mail.get_payload(decode=True).decode()
    assert body.startswith("Tuesday 10am works.") and "> Sure, Tuesday?" in body


def test_the_reply_is_recorded_sent_and_waits_for_them(conversation, worker):
    message = followup_replies.write_reply(conversation, None, "Great!")
    db.session.commit()
    worker.drain()
    db.session.refresh(message)
    assert message.state == DeliveryState.SENT and message.sent_at is not None
    assert conversation.waiting_on == "them"


def test_a_job_delivered_twice_sends_the_reply_once(conversation, worker):
    message = followup_replies.write_reply(conversation, None, "Once only")
    db.session.commit()
    from campaigns import jobs

    jobs.publish_now(followup_replies.SEND_ACTOR, message.id, queue="outbound")
    worker.drain()
    assert len(MemoryBackend.outbox) == 1


def test_no_reply_can_be_written_to_a_suppressed_person(conversation):
    suppress("ann@example.com", SuppressionReason.COMPLAINT)
    with pytest.raises(Forbidden):
        followup_replies.write_reply(conversation, None, "Hello?")


def test_a_reply_queued_before_a_suppression_is_skipped_not_sent(conversation, worker):
    message = followup_replies.write_reply(conversation, None, "Hello?")
    suppress("ann@example.com", SuppressionReason.UNSUBSCRIBED)
    db.session.commit()  # the job is published with the suppression already in place
    worker.drain()
    assert MemoryBackend.outbox == []
    assert db.session.get(FollowUpMessage, message.id).state == DeliveryState.SKIPPED


def test_an_empty_reply_is_refused(conversation):
    with pytest.raises(ValidationError):
        followup_replies.write_reply(conversation, None, "  ")


def test_a_reply_that_cannot_be_built_fails_instead_of_hanging(app_ctx, worker):
    person = factories.subscriber("ünïcode@example.com", first_name="U")
    followup = factories.followup(person, factories.campaign())
    db.session.commit()
    message = followup_replies.write_reply(followup, None, "Hello")
    db.session.commit()
    worker.drain()
    message = db.session.get(FollowUpMessage, message.id)
    assert message.state == DeliveryState.FAILED and "cannot be sent" in message.last_error
