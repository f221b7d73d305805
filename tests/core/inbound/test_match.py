"""Matching in layers: reply token → In-Reply-To/References → sender address → unmatched."""

import pytest

from campaigns.core.inbound.followups import find_or_open_followup
from campaigns.db import db
from campaigns.models import Direction, FollowUpMessage
from tests.support.inbound import raw_message, receive, reply_to, sent_campaign


@pytest.fixture
def ann(app_ctx):
    return sent_campaign(["ann@example.org"])[0]


@pytest.mark.parametrize("header", ["To", "Cc", "Delivered-To", "X-Original-To"])
def test_a_reply_token_in_a_recipient_header_names_the_delivery(ann, header):
    headers = {"From": "someone-else@example.net", "To": "team@example.com",
               header.replace("-", "_"): ann.reply_address}
    raw = raw_message(**headers)
    message = receive(raw)
    assert (message.match_method, message.delivery_id) == ("token", ann.delivery_id)
    assert message.subscriber_id == ann.subscriber_id


def test_a_reply_token_only_in_the_smtp_envelope_still_matches(ann):
    raw = raw_message(From="forwarder@example.net", To="undisclosed-recipients:;")
    message = receive(raw, "lmtp", envelope={"rcpt_to": [ann.reply_address]})
    assert (message.match_method, message.delivery_id) == ("token", ann.delivery_id)


def test_a_mixed_case_token_lowered_on_the_way_still_matches(app_ctx):
    [bo] = sent_campaign(["bo@example.org"], token="MixedCase_Token-42")
    raw = raw_message(From="x@example.net", To=bo.reply_address.lower())
    assert receive(raw).delivery_id == bo.delivery_id


def test_in_reply_to_our_message_id_matches_without_a_token(ann):
    raw = raw_message(From="ann.private@example.net", To="host@campaigns.test",
                      In_Reply_To=ann.message_id)
    message = receive(raw)
    assert (message.match_method, message.delivery_id) == ("headers", ann.delivery_id)


def test_an_old_message_id_deep_in_references_matches(ann):
    refs = f"<other-1@x> {ann.message_id} <other-2@x>"
    message = receive(raw_message(From="ann.private@example.net", References=refs,
                                  In_Reply_To="<other-2@x>"))
    assert (message.match_method, message.delivery_id) == ("headers", ann.delivery_id)


def test_a_reply_to_our_follow_up_message_lands_in_that_thread(ann):
    followup = find_or_open_followup(ann.subscriber_id, ann.campaign_id, ann.delivery_id)
    db.session.add(FollowUpMessage(followup_id=followup.id, direction=Direction.OUTBOUND,
                                   text="Great, Tuesday 10am?", message_id="<fu-1@campaigns.test>"))
    db.session.commit()
    message = receive(raw_message(From="ann@example.org", In_Reply_To="<fu-1@campaigns.test>",
                                  References="<fu-1@campaigns.test>"))
    assert (message.match_method, message.followup_id) == ("headers", followup.id)


def test_the_senders_address_matches_their_latest_delivery(app_ctx):
    sent_campaign(["bo@example.org"], name="Older")
    [latest] = sent_campaign(["bo@example.org"], name="Newer")
    message = receive(raw_message(From="Bo <BO@Example.org>", To="host@campaigns.test"))
    assert (message.match_method, message.delivery_id) == ("address", latest.delivery_id)


def test_a_stranger_with_no_token_and_no_references_is_unmatched(ann):
    message = receive(raw_message(From="stranger@example.net", To="host@campaigns.test"))
    assert (message.status, message.match_method, message.subscriber_id) == (
        "unmatched", None, None)


def test_a_token_wins_over_headers_and_address(app_ctx):
    ann, bo = sent_campaign(["ann@example.org", "bo@example.org"])
    message = receive(reply_to(ann, From="bo@example.org", In_Reply_To=bo.message_id))
    assert message.delivery_id == ann.delivery_id
