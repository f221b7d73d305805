"""The campaign funnel counts people at each stage, with bounces and auto-replies apart."""

from campaigns.core import results
from campaigns.db import db, utcnow
from campaigns.models import (
    DeliveryState,
    FollowUpStatus,
    InboundKind,
    InboundMessage,
    ReceivedVia,
)
from tests.support import factories


def inbound(delivery, kind, n):
    db.session.add(InboundMessage(dedupe_key=f"<{n}@x>", content_hash=str(n), kind=kind,
                                  received_via=ReceivedVia.FILE, delivery_id=delivery.id))


def test_the_funnel_counts_each_stage(app_ctx):
    campaign = factories.campaign()
    people = [factories.subscriber() for _ in range(6)]
    rows = [factories.delivery(campaign, p) for p in people[:5]]
    factories.delivery(campaign, people[5], state=DeliveryState.FAILED)
    rows[0].bounced_at = utcnow()
    inbound(rows[1], InboundKind.HUMAN, 1)
    inbound(rows[1], InboundKind.HUMAN, 2)  # a second reply from the same person
    inbound(rows[2], InboundKind.HUMAN, 3)
    inbound(rows[3], InboundKind.AUTO_REPLY, 4)
    factories.followup(people[1], campaign)
    factories.followup(people[2], campaign, status=FollowUpStatus.DONE, outcome="coffee_booked")
    db.session.flush()

    funnel = results.funnel(campaign.id)
    assert (funnel.sent, funnel.bounced, funnel.delivered) == (5, 1, 4)
    assert (funnel.human_replies, funnel.auto_replies) == (2, 1)
    assert (funnel.conversations, funnel.finished) == (2, 1)
    assert funnel.outcomes == {"coffee_booked": 1}
    assert funnel.reply_rate == 0.5
    assert funnel.replies_by_day == [(utcnow().date(), 3)]  # replies, not people, per day


def test_an_unsent_campaign_has_an_empty_funnel(app_ctx):
    funnel = results.funnel(factories.campaign().id)
    assert (funnel.sent, funnel.reply_rate, funnel.replies_by_day) == (0, 0.0, [])


def test_the_results_page_shows_the_funnel(logged_in, app):
    with app.app_context():
        campaign = factories.campaign("Spring coffees")
        factories.delivery(campaign, factories.subscriber())
        db.session.commit()
        campaign_id = campaign.id
    html = logged_in.get(f"/campaigns/{campaign_id}/results").get_data(as_text=True)
    assert "Spring coffees" in html and "Delivered" in html and "0.0%" in html
