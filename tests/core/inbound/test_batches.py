"""Batches: what several messages of one batch do together, in a fixed number of statements."""

import pytest
from sqlalchemy import event

from campaigns.core.suppression import is_suppressed
from campaigns.db import db
from campaigns.mail.intake.pipeline import process_batch
from campaigns.models import (
    Delivery,
    FollowUp,
    FollowUpMessage,
    InboundMessage,
    Subscriber,
    Suppression,
)
from tests.support.inbound import (
    bounce_for,
    out_of_office,
    raw_message,
    reply_to,
    sent_campaign,
    store_all,
)


@pytest.fixture
def app_settings():
    return {"SOFT_BOUNCE_LIMIT": 2}


def _suppression(email):
    return db.session.scalar(db.select(Suppression).where(Suppression.email == email))


def test_soft_bounces_in_one_batch_are_each_counted_and_the_one_at_the_limit_suppresses(
        app_ctx):
    cy, = sent_campaign(["cy@example.org"])
    ids = store_all([bounce_for(cy, "4.2.2"), bounce_for(cy, "4.2.2"),
                      bounce_for(cy, "4.2.2")])
    process_batch(ids)
    assert db.session.get(Subscriber, cy.subscriber_id).soft_bounces == 3
    suppression = _suppression("cy@example.org")
    assert (suppression.reason, suppression.detail) == (
        "soft_bounces", f"2 soft bounces (last: inbound message {ids[1]})")


@pytest.mark.parametrize(("codes", "reason"), [
    (["4.2.2", "4.2.2", "5.1.1"], "soft_bounces"),
    (["5.1.1", "4.2.2", "4.2.2"], "hard_bounce"),
])
def test_an_address_suppressed_twice_in_one_batch_keeps_the_first_reason(app_ctx, codes,
                                                                          reason):
    cy, = sent_campaign(["cy@example.org"])
    process_batch(store_all([bounce_for(cy, code) for code in codes]))
    assert _suppression("cy@example.org").reason == reason
    assert db.session.scalar(db.select(db.func.count(Suppression.id))) == 1


def test_the_first_reply_of_a_batch_sets_the_replied_time(app_ctx):
    ann, = sent_campaign(["ann@example.org"])
    ids = store_all([reply_to(ann, "Yes!"), reply_to(ann, "And Tuesday?")])
    process_batch(ids)
    first = db.session.get(InboundMessage, ids[0])
    assert db.session.get(Delivery, ann.delivery_id).replied_at == first.received_at


def _mixed(sents, start):
    """Return one message of every kind per delivery: reply, headers-only, absence, bounces."""
    raws = []
    for n, sent in enumerate(sents):
        raws += [reply_to(sent, f"Yes! ({start + n})"),
                 raw_message("Tuesday?", From=sent.email, In_Reply_To=sent.message_id),
                 out_of_office(sent), bounce_for(sent, "5.1.1" if n % 2 else "4.2.2"),
                 raw_message("Who are you?", From=f"stranger{start + n}@example.net")]
    return raws


def _statements_to_process(ids):
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        process_batch(ids)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return statements


def test_a_batch_takes_the_same_statements_whatever_its_size(app_ctx):
    sents = sent_campaign([f"p{i}@example.org" for i in range(12)])
    small = _statements_to_process(store_all(_mixed(sents[:2], 0)))
    large = _statements_to_process(store_all(_mixed(sents[2:], 100)))
    assert len(large) == len(small) <= 20, large
    assert db.session.scalar(db.select(db.func.count(FollowUp.id))) == 12
    assert db.session.scalar(db.select(db.func.count(FollowUpMessage.id))) == 24
    assert all(is_suppressed(f"p{i}@example.org") for i in (1, 3, 5, 7, 9, 11))
    assert db.session.scalar(db.select(db.func.sum(Subscriber.soft_bounces))) == 6


def test_a_claim_takes_its_own_messages_first_then_those_waiting_behind_them(app_ctx):
    from campaigns.core.inbound.claim import claim

    ann, = sent_campaign(["ann@example.org"])
    ids = store_all([reply_to(ann, f"Reply {n}") for n in range(6)])
    taken = [message.id for message in claim([ids[2]], also_waiting=2)]
    assert taken == ids[2:5]  # the older ones are left to their own jobs
    db.session.rollback()
    assert [message.id for message in claim([ids[5], ids[0]], also_waiting=3)] == [ids[0], ids[5]]
