"""The ledger's conditional updates: claims, windows, outcomes, and what the sweep settles."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from campaigns.core import campaigns as verbs
from campaigns.core import ledger
from campaigns.db import db, utcnow
from campaigns.mail.sendloop import Outcome, Result
from campaigns.models import Delivery
from tests.support.campaigns import add_subscribers, make_campaign


@pytest.fixture
def campaign(app_ctx):
    add_subscribers(10)
    campaign = make_campaign()
    verbs.start(campaign)
    db.session.commit()
    return campaign


def state(delivery_id):
    db.session.expire_all()
    return db.session.get(Delivery, delivery_id)


def test_two_batches_claim_different_rows(campaign):
    first = ledger.claim(campaign.id, "a", 4)
    second = ledger.claim(campaign.id, "b", 4)
    third = ledger.claim(campaign.id, "c", 4)
    assert len(first) == len(second) == 4 and len(third) == 2
    assert not set(first) & set(second) and not set(second) & set(third)


def test_a_claim_hint_only_speeds_the_search_up(campaign):
    ids = ledger.claim(campaign.id, "a", 10)
    ledger.release("a", ids[:3])
    assert ledger.claim(campaign.id, "b", 5, (ids[-1] + 1, ids[-1] + 100)) == ids[:3]
    ledger.release("b", ids[:3])
    assert ledger.claim(campaign.id, "c", 5, (ids[1], ids[2])) == ids[1:3]


def test_rows_deferred_to_later_are_not_claimed_before_their_time(campaign):
    db.session.execute(update(Delivery).values(next_attempt_at=utcnow() + timedelta(minutes=5)))
    assert ledger.claim(campaign.id, "a", 10) == []


def test_only_the_batch_holding_the_claim_can_mark_a_row_sending(campaign):
    ids = ledger.claim(campaign.id, "a", 3)
    assert ledger.mark_sending("b", ids) == set()
    assert ledger.mark_sending("a", ids) == set(ids)
    assert ledger.mark_sending("a", ids) == set()  # already sending: never twice
    assert {state(i).state for i in ids} == {"sending"}
    assert {state(i).attempts for i in ids} == {1}


def test_a_window_records_the_sent_and_marks_the_next_in_one_statement(campaign):
    ids = ledger.claim(campaign.id, "a", 6)
    ledger.mark_sending("a", ids[:3])
    assert ledger.advance_window("a", ids[:3], ids[3:]) == set(ids[3:])
    assert [state(i).state for i in ids] == ["sent"] * 3 + ["sending"] * 3
    assert state(ids[0]).sent_at is not None


def test_a_row_the_sweep_settled_is_not_recorded_sent_by_a_late_worker(campaign):
    ids = ledger.claim(campaign.id, "a", 1)
    ledger.mark_sending("a", ids)
    db.session.execute(update(Delivery).values(claimed_at=utcnow() - timedelta(hours=1)))
    assert ledger.settle_abandoned_sending(timedelta(minutes=2)) == 1
    ledger.advance_window("a", ids, [])
    assert state(ids[0]).state == "uncertain"


def test_outcomes_other_than_sent_are_recorded_per_row(campaign):
    ids = ledger.claim(campaign.id, "a", 4)
    ledger.mark_sending("a", ids[:3])
    retry_at = utcnow() + timedelta(minutes=1)
    ledger.record("a", [Result(ids[0], Outcome.FAILED, "550 no"),
                        Result(ids[1], Outcome.RETRY, "451 later"),
                        Result(ids[2], Outcome.UNCERTAIN, "line dropped"),
                        Result(ids[3], Outcome.SKIPPED, "suppressed")], {ids[1]: retry_at})
    rows = [state(i) for i in ids]
    assert [(r.state, r.last_error) for r in rows] == [
        ("failed", "550 no"), ("pending", "451 later"), ("uncertain", "line dropped"),
        ("skipped", "suppressed")]
    assert (rows[1].claimed_by, rows[1].next_attempt_at) == (None, retry_at)


def test_a_deferral_without_a_retry_time_left_is_failed(campaign):
    ids = ledger.claim(campaign.id, "a", 1)
    ledger.mark_sending("a", ids)
    ledger.record("a", [Result(ids[0], Outcome.RETRY, "gave up after 5 attempts")], {})
    assert state(ids[0]).state == "failed"


def test_claims_a_dead_worker_left_are_freed_after_a_while(campaign):
    ids = ledger.claim(campaign.id, "dead", 5)
    assert ledger.free_stale_claims(timedelta(minutes=2)) == 0
    db.session.execute(update(Delivery).values(claimed_at=utcnow() - timedelta(minutes=3)))
    assert ledger.free_stale_claims(timedelta(minutes=2)) == 5
    assert ledger.claim(campaign.id, "alive", 10) == sorted(
        db.session.scalars(select(Delivery.id)))
    assert ids


def test_counts_list_every_state(campaign):
    counts = ledger.counts(campaign.id)
    assert counts["pending"] == 10
    assert set(counts) == {"held", "pending", "sending", "sent", "failed", "uncertain",
                           "skipped", "cancelled"}
