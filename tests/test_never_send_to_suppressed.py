"""A suppressed or unsubscribed person is never sent anything, by any path.

Campaign sending (people suppressed before the ledger is built, and after, between queueing
and sending), test sends, and one-on-one follow-up replies, all through the real workers.
"""

import pytest

from campaigns.core import campaigns as campaign_verbs
from campaigns.core import consent, followup_replies
from campaigns.core.suppression import suppress
from campaigns.db import db
from campaigns.errors import Forbidden
from campaigns.mail.backends.memory import MemoryBackend
from campaigns.models import (
    ConsentSource,
    Delivery,
    DeliveryState,
    Subscriber,
    SuppressionReason,
    User,
)
from tests.support import factories
from tests.support.campaigns import add_subscribers, make_campaign


def recipients() -> set[str]:
    return {r for envelope in MemoryBackend.outbox for r in envelope.recipients}


def test_a_campaign_reaches_only_people_who_may_be_emailed(app_ctx, worker):
    add_subscribers(5, prefix="p")
    people = {s.email: s for s in db.session.scalars(db.select(Subscriber))}
    consent.unsubscribe(people["p1@example.com"], ConsentSource.UNSUBSCRIBE_LINK, "test")
    suppress("p2@example.com", SuppressionReason.HARD_BOUNCE)
    db.session.commit()
    campaign = make_campaign()
    campaign_verbs.start(campaign)  # the ledger rows exist from here on
    suppress("p3@example.com", SuppressionReason.COMPLAINT)  # after its row was made
    db.session.commit()  # only now are the batches published
    worker.drain()
    assert recipients() == {"p0@example.com", "p4@example.com"}
    skipped = db.session.scalars(db.select(Delivery.email).where(
        Delivery.state == DeliveryState.SKIPPED)).all()
    assert "p3@example.com" in skipped


def the_owner() -> User:
    return db.session.scalar(db.select(User))


def test_a_test_send_to_a_suppressed_address_is_refused(app_ctx, owner):
    suppress(the_owner().email, SuppressionReason.MANUAL)
    db.session.commit()
    with pytest.raises(Forbidden):
        campaign_verbs.send_test(make_campaign(), the_owner())


def test_a_test_send_queued_before_a_suppression_is_not_sent(app_ctx, owner, worker):
    campaign_verbs.send_test(make_campaign(), the_owner())
    suppress(the_owner().email, SuppressionReason.MANUAL)
    db.session.commit()  # the job is published with the suppression already in place
    worker.drain()
    assert MemoryBackend.outbox == []


def test_a_followup_reply_to_an_unsubscribed_person_is_refused(app_ctx):
    person = factories.subscriber("ann@example.com")
    followup = factories.followup(person, factories.campaign())
    consent.unsubscribe(person, ConsentSource.REPLY, "asked in a reply")
    db.session.commit()
    with pytest.raises(Forbidden):
        followup_replies.write_reply(followup, None, "Are you sure?")
    assert MemoryBackend.outbox == []
