"""Who can be sent anything: never the unsubscribed, the suppressed, the unconfirmed."""

import pytest
from sqlalchemy import select

from campaigns.core import consent, privacy, segments, subscribers
from campaigns.core.audience import audience_count, can_receive, eligible_subscribers
from campaigns.core.suppression import suppress, suppression_of
from campaigns.db import db
from campaigns.errors import NotFound
from campaigns.models import ConsentSource, ConsentStatus, SuppressionReason


def add(email, tags=(), **extra):
    return subscribers.create_subscriber(email, tags=list(tags), **extra)


def reached(audience=None):
    return sorted(s.email for s in db.session.scalars(eligible_subscribers(audience)))


@pytest.fixture
def people(app_ctx):
    everyone = {name: add(f"{name}@example.com", tags=tags) for name, tags in [
        ("ann", ["vip"]), ("bob", ["vip", "berlin"]), ("cat", ["berlin"]), ("dan", [])]}
    db.session.commit()
    return everyone


def test_no_tags_and_no_segment_reach_everyone_subscribed(people):
    assert reached() == ["ann@example.com", "bob@example.com", "cat@example.com",
                         "dan@example.com"]
    assert audience_count({}) == 4


def test_tags_reach_people_with_any_of_them_in_any_case(people):
    assert reached({"tags": ["VIP"]}) == ["ann@example.com", "bob@example.com"]
    assert reached({"tags": ["vip", "berlin"]}) == ["ann@example.com", "bob@example.com",
                                                    "cat@example.com"]


@pytest.mark.parametrize("reason", list(SuppressionReason))
def test_a_suppressed_person_is_reached_by_no_audience_and_cannot_receive(people, reason):
    suppress("bob@example.com", reason)
    assert "bob@example.com" not in reached({"tags": ["vip"]})
    assert "bob@example.com" not in reached()
    assert can_receive(people["bob"]) is False
    assert can_receive(people["ann"]) is True


@pytest.mark.parametrize("source", [ConsentSource.ONE_CLICK, ConsentSource.UNSUBSCRIBE_LINK,
                                    ConsentSource.MANUAL, ConsentSource.REPLY])
def test_an_unsubscribed_person_is_reached_by_no_audience_and_cannot_receive(people, source):
    consent.unsubscribe(people["ann"], source)
    assert "ann@example.com" not in reached({"tags": ["vip"]})
    assert can_receive(people["ann"]) is False


def test_an_unconfirmed_signup_is_not_reached(app_ctx):
    pending = add("new@example.com", status=ConsentStatus.PENDING, source=ConsentSource.SIGNUP)
    assert reached() == []
    assert can_receive(pending) is False


def test_a_suppression_recorded_without_the_address_still_blocks_can_receive(people):
    suppress("cat@example.com", SuppressionReason.HARD_BOUNCE)
    entry = suppression_of("cat@example.com")
    entry.email = None  # as erasure leaves it: only the hash
    assert can_receive(people["cat"]) is False


def test_an_erased_person_is_gone_from_every_audience(people):
    privacy.erase_person(people["dan"])
    assert "dan@example.com" not in reached()


def test_a_segment_audience_is_the_segment_minus_those_who_cannot_receive(people):
    segment = segments.save_segment("Berliners", {"conditions": [
        {"type": "tag", "value": "berlin"}]})
    consent.unsubscribe(people["cat"], ConsentSource.MANUAL)
    assert reached({"segment_id": segment.id}) == ["bob@example.com"]
    assert reached({"segment_id": segment.id, "tags": ["vip"]}) == ["bob@example.com"]
    assert audience_count({"segment_id": segment.id}) == 1


def test_an_audience_whose_segment_was_deleted_reaches_nobody_rather_than_everyone(people):
    segment = segments.save_segment("Gone soon", {"conditions": []})
    segment_id = segment.id
    segments.delete_segment(segment)
    with pytest.raises(NotFound):
        eligible_subscribers({"segment_id": segment_id})


def test_the_select_can_be_narrowed_and_batched_by_the_caller(people):
    from campaigns.models import Subscriber

    query = eligible_subscribers({"tags": ["vip"]}).with_only_columns(Subscriber.id) \
        .order_by(Subscriber.id).limit(1)
    assert list(db.session.scalars(query)) == [people["ann"].id]
    assert db.session.scalar(select(Subscriber.email).where(
        Subscriber.id.in_(eligible_subscribers({}).with_only_columns(Subscriber.id)
                          .scalar_subquery())).limit(1))
