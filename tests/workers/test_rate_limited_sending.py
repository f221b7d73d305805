"""A sender's rate limit, applied by the send loop: what it refuses waits for the next minute."""

from sqlalchemy import select

from campaigns import jobs
from campaigns.core import campaigns as verbs
from campaigns.core import ledger
from campaigns.db import db, utcnow
from campaigns.mail.backends.memory import MemoryBackend
from campaigns.models import Delivery
from tests.support.campaigns import add_subscribers, make_campaign
from workers.outbound import send_batch


def test_a_batch_sends_what_the_limit_allows_and_defers_the_rest(app_ctx):
    add_subscribers(5)
    campaign = make_campaign(rate_per_minute=3, from_email="limited@example.com")
    verbs.start(campaign)
    db.session.commit()
    send_batch.fn(campaign.id)
    db.session.expire_all()
    counts = ledger.counts(campaign.id)
    assert (counts["sent"], counts["pending"]) == (3, 2)
    assert len(MemoryBackend.outbox) == 3
    waiting = db.session.scalars(select(Delivery).where(Delivery.state == "pending")).all()
    assert all(r.claimed_by is None and r.next_attempt_at > utcnow() for r in waiting)
    assert all(r.attempts == 0 for r in waiting)  # never tried: the limit held them back
    send_batch.fn(campaign.id)  # the same minute: nothing is due yet
    assert len(MemoryBackend.outbox) == 3
    jobs.get_broker().flush_all()  # the delayed retry it queued is not for later tests
