"""Segments: rules over tags, fields and engagement, counted live."""

import secrets

import pytest

from campaigns.core import segments, subscribers
from campaigns.core.audience import rules_count
from campaigns.db import db, utcnow
from campaigns.errors import Conflict, ValidationError
from campaigns.models import Campaign, Delivery, DeliveryState, FollowUp, FollowUpStatus


def deliver(campaign, person, state=DeliveryState.SENT, replied=False):
    token = secrets.token_hex(8)
    db.session.add(Delivery(campaign_id=campaign.id, subscriber_id=person.id, email=person.email,
                            state=state, message_id=f"<{token}@x>", reply_token=token,
                            replied_at=utcnow() if replied else None))


@pytest.fixture
def world(app_ctx):
    p = {n: subscribers.create_subscriber(f"{n}@example.com", tags=t, fields=f, company=c)
         for n, t, f, c in [("ann", ["vip"], {"city": "Berlin"}, "Acme"),
                            ("bob", [], {"city": "Paris"}, "Globex"),
                            ("cat", ["VIP"], {}, "Acme Labs"),
                            ("dan", [], {"city": "berlin"}, "")]}
    coffee, intro = Campaign(name="Coffee"), Campaign(name="Intro")
    db.session.add_all([coffee, intro])
    db.session.flush()
    deliver(coffee, p["ann"])
    deliver(coffee, p["bob"])
    deliver(coffee, p["cat"], state=DeliveryState.FAILED)
    deliver(intro, p["ann"], replied=True)
    db.session.add(FollowUp(subscriber_id=p["bob"].id, campaign_id=coffee.id,
                            status=FollowUpStatus.OPEN))
    db.session.add(FollowUp(subscriber_id=p["ann"].id, campaign_id=intro.id,
                            status=FollowUpStatus.DONE, outcome="coffee_booked"))
    db.session.flush()
    return p, coffee, intro


def matching(*conditions, match="all"):
    from sqlalchemy import select

    from campaigns.models import Subscriber

    rules = {"match": match, "conditions": list(conditions)}
    query = select(Subscriber.email).where(segments.rules_condition(rules))
    return sorted(e.split("@")[0] for e in db.session.scalars(query))


def test_a_tag_condition_matches_any_case(world):
    assert matching({"type": "tag", "value": "vip"}) == ["ann", "cat"]


@pytest.mark.parametrize("condition, expected", [
    ({"field": "company", "op": "is", "value": "acme"}, ["ann"]),
    ({"field": "company", "op": "contains", "value": "ACME"}, ["ann", "cat"]),
    ({"field": "company", "op": "starts_with", "value": "glo"}, ["bob"]),
    ({"field": "company", "op": "is_empty"}, ["dan"]),
    ({"field": "city", "op": "is", "value": "Berlin"}, ["ann", "dan"]),
    ({"field": "fields.city", "op": "is_set"}, ["ann", "bob", "dan"]),
    ({"field": "city", "op": "is_empty"}, ["cat"]),
    ({"field": "city", "op": "contains", "value": "%"}, []),
])
def test_field_conditions_compare_core_and_custom_fields(world, condition, expected):
    assert matching({"type": "field", **condition}) == expected


def test_received_means_the_campaign_was_sent_to_them(world):
    _, coffee, _ = world
    assert matching({"type": "received", "campaign_id": coffee.id}) == ["ann", "bob"]
    assert matching({"type": "received"}) == ["ann", "bob"]


def test_replied_counts_follow_ups_and_replies_marked_on_the_ledger(world):
    _, coffee, intro = world
    assert matching({"type": "replied", "campaign_id": coffee.id}) == ["bob"]
    assert matching({"type": "replied", "campaign_id": intro.id}) == ["ann"]
    assert matching({"type": "never_replied"}) == ["cat", "dan"]


def test_open_conversations_and_outcomes(world):
    assert matching({"type": "open_conversation"}) == ["bob"]
    assert matching({"type": "outcome", "value": "coffee_booked"}) == ["ann"]


def test_conditions_combine_with_all_any_and_not(world):
    _, coffee, _ = world
    vip = {"type": "tag", "value": "vip"}
    got_coffee = {"type": "received", "campaign_id": coffee.id}
    assert matching(vip, got_coffee) == ["ann"]
    assert matching(vip, got_coffee, match="any") == ["ann", "bob", "cat"]
    assert matching(vip, {**got_coffee, "negate": True}) == ["cat"]


def test_the_live_count_leaves_out_who_cannot_be_emailed(world):
    from campaigns.core import consent
    from campaigns.models import ConsentSource

    people, _, _ = world
    rules = {"conditions": [{"type": "tag", "value": "vip"}]}
    assert rules_count(rules) == 2
    consent.unsubscribe(people["cat"], ConsentSource.MANUAL)
    assert rules_count(rules) == 1
    assert segments.count_matching(rules) == 2  # still matches; just cannot be emailed


@pytest.mark.parametrize("rules, message", [
    ({"match": "most"}, '"all" or "any"'),
    ({"conditions": [{"type": "astrology"}]}, "Condition 1"),
    ({"conditions": [{"type": "tag"}]}, "which tag"),
    ({"conditions": [{"type": "field", "field": "city", "op": "is"}]}, "a value"),
    ({"conditions": [{"type": "received", "campaign_id": "x"}]}, "not a campaign"),
])
def test_invalid_rules_are_refused_with_a_reason(app_ctx, rules, message):
    with pytest.raises(ValidationError, match=message):
        segments.save_segment("Bad", rules)


def test_segment_names_are_unique_in_any_case(world):
    segments.save_segment("VIPs", {})
    with pytest.raises(Conflict):
        segments.save_segment("vips", {})


def test_rules_read_in_words(app_ctx):
    rules = {"match": "any", "conditions": [{"type": "tag", "value": "vip"},
                                            {"type": "never_replied", "negate": True}]}
    assert segments.describe(rules) == "has tag vip or not never replied"
