"""Campaign verbs: drafts from presets, validation, scheduling, the status machine."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from campaigns.core import campaigns as verbs
from campaigns.core import ledger, presets
from campaigns.db import db, utcnow
from campaigns.errors import Conflict, ValidationError
from campaigns.mail import render
from campaigns.models import Campaign, CampaignKind, CampaignStatus, Delivery
from tests.support.campaigns import add_subscribers, make_campaign


@pytest.mark.parametrize("kind", list(CampaignKind))
def test_every_kind_has_a_preset_that_compiles_and_asks_for_a_goal(app_ctx, kind):
    preset = presets.preset_for(kind)
    campaign = verbs.create({"name": "x", "kind": kind, "from_email": "o@example.com"})
    assert campaign.body_mjml == preset.body() and preset.goal_prompt
    assert campaign.subject == preset.subject
    assert "{{ unsubscribe_url }}" in render.compile_mjml(campaign.body_mjml).html


@pytest.mark.parametrize("data, message", [
    ({"name": ""}, "Give the campaign a name."),
    ({"kind": "webinar"}, "Unknown campaign kind"),
    ({"from_email": "not an address"}, "The from address is not valid"),
    ({"reply_mode": "somewhere"}, "reply_mode is 'tracked' or 'sender'."),
    ({"audience": {"tags": "a, b", "segment_id": "x"}}, "audience.segment_id"),
    ({"rate_per_minute": -1}, "rate_per_minute cannot be negative."),
    ({"timezone": "Mars/Olympus"}, "Unknown time zone"),
    ({"colour": "blue"}, "Unknown field(s): colour."),
])
def test_bad_input_gets_a_clear_error(app_ctx, data, message):
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        verbs.create({"name": "Coffee", **data})


def test_tags_given_as_text_become_a_clean_list(app_ctx):
    campaign = verbs.create({"name": "x", "audience": {"tags": " b, a ,, a"}})
    assert campaign.audience == {"tags": ["a", "b"], "segment_id": None}


def test_only_drafts_can_be_edited(app_ctx):
    add_subscribers(1)
    campaign = make_campaign()
    verbs.start(campaign)
    with pytest.raises(Conflict, match="only drafts can be edited"):
        verbs.update_draft(campaign, {"subject": "changed"})


def test_starting_freezes_the_templates_and_creates_the_ledger(app_ctx):
    add_subscribers(3)
    campaign = make_campaign()
    assert verbs.start(campaign) == 3
    assert campaign.status == CampaignStatus.SENDING
    assert "Coffee at {{ company }}?" in campaign.compiled_html
    assert campaign.ledger_built_at is not None
    rows = db.session.scalars(select(Delivery)).all()
    assert {r.state for r in rows} == {"pending"}
    assert len({r.reply_token for r in rows}) == 3
    assert all(r.reply_token.islower() and len(r.reply_token) == 24 for r in rows)
    assert all(r.message_id.startswith(f"<{campaign.id}.") for r in rows)


def test_a_second_start_is_refused_and_adds_no_rows(app_ctx):
    add_subscribers(2)
    campaign = make_campaign()
    db.session.refresh(campaign)
    db.session.expunge(campaign)  # a second click that read the campaign while still a draft
    verbs.start(db.session.get(Campaign, campaign.id))
    db.session.commit()
    with pytest.raises(Conflict, match="already sending"):
        verbs.start(campaign)
    assert ledger.counts(campaign.id)["pending"] == 2


def test_an_empty_audience_cannot_start_and_the_campaign_stays_a_draft(app_ctx):
    campaign = make_campaign(audience={"tags": ["nobody"]})
    with pytest.raises(ValidationError, match="audience is empty"):
        verbs.start(campaign)
    db.session.rollback()
    assert db.session.get(Campaign, campaign.id).status == CampaignStatus.DRAFT


def test_a_big_audience_gets_its_ledger_in_keyset_batches(app_ctx, worker):
    add_subscribers(2300)
    campaign = make_campaign()
    app_ctx.config["LEDGER_BATCH_SIZE"] = 700
    assert verbs.start(campaign) == 700  # the first batch, in the request
    assert campaign.ledger_built_at is None
    db.session.commit()
    worker.drain()  # a worker builds the rest, batch after batch, sending as it goes
    db.session.expire_all()
    assert ledger.counts(campaign.id)["sent"] == 2300
    assert db.session.get(Campaign, campaign.id).ledger_built_at is not None


def test_scheduling_converts_the_local_time_to_utc(app_ctx):
    add_subscribers(1)
    campaign = make_campaign()
    local = datetime(utcnow().year + 1, 7, 1, 9, 30)
    verbs.schedule(campaign, local, "Europe/Paris")  # UTC+2 in July
    assert campaign.status == CampaignStatus.SCHEDULED
    assert campaign.scheduled_at == local - timedelta(hours=2)
    assert campaign.timezone == "Europe/Paris"


def test_a_time_in_the_past_cannot_be_scheduled(app_ctx):
    campaign = make_campaign()
    with pytest.raises(ValidationError, match="That time has passed"):
        verbs.schedule(campaign, datetime(2020, 1, 1, 9, 0), "UTC")


@pytest.mark.parametrize("verb, status, message", [
    (verbs.pause, CampaignStatus.DRAFT, "Only a sending campaign can be paused"),
    (verbs.resume, CampaignStatus.SENDING, "Only a paused campaign can be resumed"),
    (verbs.cancel, CampaignStatus.SENT, "can be cancelled"),
    (verbs.retry_failed, CampaignStatus.DRAFT, "Only a campaign that has sent"),
    (verbs.unschedule, CampaignStatus.DRAFT, "Only a scheduled campaign"),
])
def test_status_changes_only_from_the_right_status(app_ctx, verb, status, message):
    campaign = make_campaign()
    campaign.status = status
    db.session.commit()
    with pytest.raises(Conflict, match=message):
        verb(campaign)


def test_cancel_cancels_what_was_not_sent_and_keeps_the_rest(app_ctx):
    add_subscribers(3)
    campaign = make_campaign()
    verbs.start(campaign)
    first = db.session.scalar(select(Delivery).order_by(Delivery.id))
    first.state = "sent"
    assert verbs.cancel(campaign) == 2
    counts = ledger.counts(campaign.id)
    assert (counts["sent"], counts["cancelled"], counts["pending"]) == (1, 2, 0)
