"""The sweep: work a lost message or a dead worker left behind is found and settled."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from campaigns import jobs
from campaigns.core import campaigns as verbs
from campaigns.core import ledger
from campaigns.db import db, utcnow
from campaigns.mail.backends.memory import MemoryBackend
from campaigns.models import Campaign, CampaignStatus, Delivery
from tests.support.campaigns import add_subscribers, make_campaign
from workers.outbound import resume_sending


def age_everything(minutes: int = 10) -> None:
    """Make every ledger row look untouched for a while."""
    past = utcnow() - timedelta(minutes=minutes)
    db.session.execute(update(Delivery).values(updated_at=past, created_at=past,
                                               claimed_at=past))
    db.session.commit()


def start_and_lose_its_messages(campaign: Campaign) -> None:
    """Start a campaign and commit, with every job it publishes lost on the way.

    Dropped before the broker, not flushed from it after the commit: the running worker
    may take a message in between (it did, once, on Redis).
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jobs, "enqueue", lambda *args, **kwargs: None)
        verbs.start(campaign)
        db.session.commit()


def test_a_campaign_whose_messages_were_lost_is_sent_by_the_sweep(app_ctx, worker):
    add_subscribers(12)
    campaign = make_campaign()
    start_and_lose_its_messages(campaign)
    worker.drain()
    assert ledger.counts(campaign.id)["pending"] == 12
    age_everything()
    resume_sending()
    worker.drain()
    db.session.expire_all()
    assert ledger.counts(campaign.id)["sent"] == 12
    assert db.session.get(Campaign, campaign.id).status == CampaignStatus.SENT


def test_rows_a_dead_worker_left_sending_become_uncertain_and_are_not_resent(app_ctx,
                                                                            worker):
    add_subscribers(3)
    campaign = make_campaign()
    start_and_lose_its_messages(campaign)
    ids = ledger.claim(campaign.id, "dead-worker", 2)
    ledger.mark_sending("dead-worker", ids)
    db.session.commit()
    age_everything()
    resume_sending()
    worker.drain()
    db.session.expire_all()
    counts = ledger.counts(campaign.id)
    assert (counts["uncertain"], counts["sent"]) == (2, 1)
    assert len(MemoryBackend.outbox) == 1


def test_a_scheduled_campaign_starts_when_its_time_comes(app_ctx, worker):
    add_subscribers(2)
    campaign = make_campaign()
    verbs.schedule(campaign, datetime(utcnow().year + 1, 1, 1, 8, 0), "UTC")
    db.session.commit()
    resume_sending()
    assert db.session.get(Campaign, campaign.id).status == CampaignStatus.SCHEDULED
    campaign.scheduled_at = utcnow() - timedelta(seconds=1)  # the time has come
    db.session.commit()
    resume_sending()
    worker.drain()
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).status == CampaignStatus.SENT
    assert len(MemoryBackend.outbox) == 2


def test_a_scheduled_campaign_that_can_no_longer_send_goes_back_to_draft(app_ctx):
    add_subscribers(1, tag="vip")
    campaign = make_campaign(audience={"tags": ["vip"]})
    verbs.schedule(campaign, datetime(utcnow().year + 1, 1, 1, 8, 0), "UTC")
    campaign.scheduled_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    db.session.execute(db.text("DELETE FROM subscriber_tags"))  # the audience empties
    db.session.commit()
    resume_sending()
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).status == CampaignStatus.DRAFT
    assert db.session.scalar(select(Delivery.id)) is None
