"""A reply from the inbox goes out over real SMTP, and the answer to it continues the thread."""

from email import message_from_bytes
from email.message import EmailMessage

import pytest

from campaigns.core import followup_replies
from campaigns.core.inbound.store import store_raw
from campaigns.db import db
from campaigns.models import DeliveryState, FollowUp, FollowUpMessage, ReceivedVia
from tests.support import factories
from tests.support.smtp import SmtpServer


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


@pytest.fixture
def app_settings(smtp):
    return {"MAIL_URL": smtp.url}


def test_the_answer_to_a_reply_lands_in_the_same_conversation(app_ctx, worker, smtp):
    person = factories.subscriber("ann@example.com", first_name="Ann")
    campaign = factories.campaign()
    delivery = factories.delivery(campaign, person)
    followup = factories.followup(person, campaign, text="Happy to!", delivery_id=delivery.id)
    db.session.commit()

    ours = followup_replies.write_reply(followup, None, "Tuesday 10am?")
    db.session.commit()
    worker.drain()
    [received] = smtp.handler.messages
    sent = message_from_bytes(received.data)
    assert received.recipients == ["ann@example.com"]
    assert sent["Message-ID"] == ours.message_id

    answer = EmailMessage()
    answer["From"] = "Ann <ann@example.com>"
    answer["To"] = sent["Reply-To"]
    answer["Subject"] = "Re: " + sent["Subject"]
    answer["Message-ID"] = "<answer-1@example.com>"
    answer["In-Reply-To"] = sent["Message-ID"]
    answer.set_content("Perfect, see you then.\n\nOn Friday you wrote:\n> Tuesday 10am?\n")
    store_raw(answer.as_bytes(), ReceivedVia.WEBHOOK)
    db.session.commit()
    worker.drain()

    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count(FollowUp.id))) == 1
    texts = [m.text.split("\n")[0] for m in db.session.get(FollowUp, followup.id).messages]
    assert texts == ["Happy to!", "Tuesday 10am?", "Perfect, see you then."]
    assert db.session.get(FollowUpMessage, ours.id).state == DeliveryState.SENT


def test_a_server_that_refuses_the_reply_marks_it_failed_with_the_reason(app_ctx, worker, smtp):
    person = factories.subscriber("reject-me@example.com")
    followup = factories.followup(person, factories.campaign())
    db.session.commit()
    ours = followup_replies.write_reply(followup, None, "Hello")
    db.session.commit()
    worker.drain()
    message = db.session.get(FollowUpMessage, ours.id)
    assert message.state == DeliveryState.FAILED
    assert "550" in message.last_error


def test_a_line_dropped_after_the_data_leaves_the_reply_uncertain(app_ctx, worker, smtp):
    followup = factories.followup(factories.subscriber("drop@example.com"), factories.campaign())
    db.session.commit()
    ours = followup_replies.write_reply(followup, None, "Hello")
    db.session.commit()
    worker.drain()
    assert db.session.get(FollowUpMessage, ours.id).state == DeliveryState.UNCERTAIN
