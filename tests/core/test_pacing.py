"""Pacing by follow-up capacity: waves sized by the reply rate, held while the inbox is full."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from campaigns.core import campaigns as verbs
from campaigns.core import ledger, pacing
from campaigns.db import db, utcnow
from campaigns.models import Campaign, Delivery, FollowUp, FollowUpStatus
from tests.support.campaigns import add_subscribers, make_campaign
from workers.outbound import resume_sending


@pytest.fixture
def paced(app_ctx):
    add_subscribers(40)
    campaign = make_campaign(daily_conversation_cap=2)
    verbs.start(campaign)
    db.session.commit()
    return campaign


def a_day_passes(campaign: Campaign) -> None:
    campaign.last_wave_at = utcnow() - timedelta(days=1, minutes=1)
    db.session.commit()


def open_followups(count: int) -> None:
    subscribers = db.session.scalars(select(Delivery.subscriber_id).limit(count)).all()
    db.session.add_all(FollowUp(subscriber_id=s, status=FollowUpStatus.OPEN)
                       for s in subscribers)
    db.session.commit()


def test_the_first_wave_assumes_a_20_percent_reply_rate_and_holds_the_rest(paced):
    counts = ledger.counts(paced.id)
    assert (counts["pending"], counts["held"]) == (10, 30)  # a cap of 2 / 20 %


def test_no_second_wave_the_same_day(paced):
    assert pacing.release_wave(paced) == 0


def test_the_next_wave_follows_the_reply_rate_seen(paced):
    db.session.execute(update(Delivery).where(Delivery.state == "pending")
                       .values(state="sent", sent_at=utcnow()))
    replied = db.session.scalars(select(Delivery.id).where(Delivery.state == "sent").limit(5))
    db.session.execute(update(Delivery).where(Delivery.id.in_(list(replied)))
                       .values(replied_at=utcnow()))
    a_day_passes(paced)
    # (5 + 1) / (10 + 5) = 40 % of replies: 2 / 0.4 = 5 emails for two conversations
    assert pacing.release_wave(paced) == 5


def test_a_full_inbox_holds_the_next_wave(paced):
    open_followups(2)
    a_day_passes(paced)
    assert pacing.release_wave(paced) == 0
    status = pacing.status(paced)
    assert status.inbox_full and status.held == 30


def test_the_sweep_releases_a_due_wave_and_queues_its_sending(app_ctx, worker):
    add_subscribers(100)
    campaign = make_campaign(daily_conversation_cap=2)
    verbs.start(campaign)
    db.session.commit()
    worker.drain()
    assert ledger.counts(campaign.id)["sent"] == 10  # the first wave
    a_day_passes(campaign)
    resume_sending()  # 10 sent, no reply yet: (0 + 1) / (10 + 5) -> 2 * 15 = 30 emails
    worker.drain()
    db.session.expire_all()
    counts = ledger.counts(campaign.id)
    assert (counts["sent"], counts["held"]) == (40, 60)
