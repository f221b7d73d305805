"""Inbound actors and sweeps: lost jobs are re-queued; configured mailboxes are polled."""

from datetime import timedelta

import pytest

from campaigns.core.inbound.store import store_raw
from campaigns.db import db, utcnow
from campaigns.models import FollowUp, InboundMessage
from tests.support.dovecot import dovecot_server
from tests.support.inbound import parked_jobs, reply_to, sent_campaign  # noqa: F401
from workers import inbound, sweeps

pytestmark = pytest.mark.usefixtures("parked_jobs")


@pytest.fixture(scope="module")
def dovecot():
    yield from dovecot_server()


def test_both_inbound_tasks_are_registered_with_the_sweep():
    assert {inbound.poll_mailboxes, inbound.requeue_stored_messages} <= set(sweeps.registered())


def test_a_message_whose_job_was_lost_is_processed_after_the_sweep(app_ctx, worker):
    [ann] = sent_campaign(["ann@example.org"])
    stored = store_raw(reply_to(ann), "webhook")
    db.session.commit()
    worker.broker.flush_all()  # the broker lost the job
    inbound.requeue_stored_messages()
    worker.drain()
    db.session.expire_all()
    assert db.session.get(InboundMessage, stored.id).status == "stored"  # not stale yet
    db.session.get(InboundMessage, stored.id).received_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    inbound.requeue_stored_messages()
    worker.drain()
    db.session.expire_all()
    assert db.session.get(InboundMessage, stored.id).status == "processed"


def test_the_process_actor_returns_early_for_a_message_already_processed(app_ctx, worker):
    [ann] = sent_campaign(["ann@example.org"])
    stored = store_raw(reply_to(ann), "webhook")
    db.session.commit()
    worker.drain()
    inbound.process.send(stored.id)
    worker.drain()
    assert db.session.scalar(db.select(db.func.count(FollowUp.id))) == 1


def test_the_sweep_polls_every_configured_mailbox(app, worker, dovecot):
    user = dovecot.new_user()
    app.config["IMAP_MAILBOXES"] = [{"url": dovecot.url(user)}]
    with app.app_context():
        [ann] = sent_campaign(["ann@example.org"])
        dovecot.append(user, reply_to(ann, "Count me in."))
        inbound.poll_mailboxes()
    worker.drain()
    with app.app_context():
        message = db.session.scalar(db.select(InboundMessage))
        assert (message.received_via, message.status) == ("imap", "processed")
        assert db.session.scalar(db.select(FollowUp.subscriber_id)) == ann.subscriber_id


def test_one_job_takes_the_messages_waiting_behind_it_into_its_batch(app_ctx, worker):
    ann, bo = sent_campaign(["ann@example.org", "bo@example.org"])
    ids = [store_raw(reply_to(sent), "webhook").id for sent in (ann, bo)]
    db.session.commit()
    worker.broker.flush_all()  # as if the second job had not been delivered yet
    inbound.process.send(ids[0])
    worker.drain()
    db.session.expire_all()
    assert [db.session.get(InboundMessage, i).status for i in ids] == ["processed", "processed"]
