"""No SMTP server to talk to: every email waits for a retry, none is lost or marked sent."""

import pytest
from sqlalchemy import select

from campaigns import jobs
from campaigns.core import campaigns as verbs
from campaigns.core import ledger
from campaigns.db import db, utcnow
from campaigns.models import Delivery
from tests.support.campaigns import add_subscribers, make_campaign
from tests.support.smtp import free_port
from workers.outbound import send_batch


@pytest.fixture
def app_settings():
    return {"MAIL_URL": f"smtp://127.0.0.1:{free_port()}", "MAIL_TIMEOUT": 2,
            "SEND_WINDOW": 4, "SEND_RETRY_BACKOFF": 60}


def test_without_a_server_the_batch_stops_and_every_row_waits_for_its_retry(app_ctx):
    add_subscribers(10)
    campaign = make_campaign()
    verbs.start(campaign)
    db.session.commit()
    send_batch.fn(campaign.id)
    db.session.expire_all()
    assert ledger.counts(campaign.id)["pending"] == 10
    rows = db.session.scalars(select(Delivery).order_by(Delivery.id)).all()
    tried, untried = rows[:4], rows[4:]  # the first window was marked and attempted
    assert all(r.attempts == 1 and r.last_error.startswith("no connection: cannot connect")
               for r in tried)
    assert all(r.attempts == 0 and r.last_error == "" for r in untried)
    assert all(r.claimed_by is None and r.next_attempt_at > utcnow() for r in rows)
    jobs.get_broker().flush_all()  # the delayed retry it queued is not for later tests
