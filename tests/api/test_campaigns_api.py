"""The campaigns API: create, read with ledger counts, send, pause, resume, cancel, ledger."""

from campaigns.db import db
from campaigns.mail.backends.memory import MemoryBackend
from tests.support.campaigns import SIMPLE_BODY, add_subscribers

NEW = {"name": "Spring coffees", "kind": "virtual_coffee", "subject": "Coffee, {{ first_name }}?",
       "body_mjml": SIMPLE_BODY, "from_name": "Olive Owner", "from_email": "olive@example.com",
       "audience": {"tags": ["friends"]}}


def create(api, **changes):
    response = api.post("/api/v1/campaigns", json={**NEW, **changes})
    assert response.status_code == 201, response.json
    return response.json


def test_a_campaign_is_created_with_its_fields_and_empty_counts(api):
    body = create(api)
    assert body["status"] == "draft" and body["kind"] == "virtual_coffee"
    assert body["audience"] == {"tags": ["friends"], "segment_id": None}
    assert body["deliveries"]["pending"] == 0 and body["deliveries"]["sent"] == 0


def test_a_preset_fills_what_the_request_leaves_out(api):
    response = api.post("/api/v1/campaigns", json={"name": "Intro", "kind":
                                                   "introduction_request"})
    assert response.json["subject"] == "Could you introduce me to someone?"
    assert "<mjml>" in response.json["body_mjml"]
    assert response.json["from_email"] == "owner@example.com"


def test_bad_input_gets_the_error_shape(api):
    response = api.post("/api/v1/campaigns", json={**NEW, "from_email": "nope"})
    assert response.status_code == 422
    assert response.json["error"] == "invalid"
    assert "from address" in response.json["message"]
    assert api.post("/api/v1/campaigns", data="x").status_code == 422


def test_send_then_get_shows_the_ledger_counts(api, app, worker):
    with app.app_context():
        add_subscribers(4, tag="friends")
        add_subscribers(2, prefix="other")
    campaign = create(api)
    sent = api.post(f"/api/v1/campaigns/{campaign['id']}/send")
    assert sent.status_code == 202 and sent.json["status"] == "sending"
    assert api.get(f"/api/v1/campaigns/{campaign['id']}").json["deliveries"]["pending"] == 4
    with app.app_context():
        worker.drain()
    body = api.get(f"/api/v1/campaigns/{campaign['id']}").json
    assert body["status"] == "sent"
    assert body["deliveries"]["sent"] == 4
    assert len(MemoryBackend.outbox) == 4
    assert api.post(f"/api/v1/campaigns/{campaign['id']}/send").status_code == 409


def test_pause_resume_and_cancel(api, app):
    with app.app_context():
        add_subscribers(3, tag="friends")
    campaign_id = create(api)["id"]
    api.post(f"/api/v1/campaigns/{campaign_id}/send")
    assert api.post(f"/api/v1/campaigns/{campaign_id}/pause").json["status"] == "paused"
    assert api.post(f"/api/v1/campaigns/{campaign_id}/pause").status_code == 409
    assert api.post(f"/api/v1/campaigns/{campaign_id}/resume").json["status"] == "sending"
    cancelled = api.post(f"/api/v1/campaigns/{campaign_id}/cancel").json
    assert cancelled["status"] == "cancelled"
    assert cancelled["deliveries"]["cancelled"] == 3


def test_the_ledger_is_listed_page_by_page_and_filtered(api, app):
    with app.app_context():
        add_subscribers(5, tag="friends")
        add_subscribers(1, prefix="zed", tag="friends")
    campaign_id = create(api)["id"]
    api.post(f"/api/v1/campaigns/{campaign_id}/send")
    first = api.get(f"/api/v1/campaigns/{campaign_id}/deliveries?limit=4").json
    assert len(first["deliveries"]) == 4 and first["next_after"]
    rest = api.get(f"/api/v1/campaigns/{campaign_id}/deliveries?after={first['next_after']}")
    assert len(rest.json["deliveries"]) == 2 and rest.json["next_after"] is None
    found = api.get(f"/api/v1/campaigns/{campaign_id}/deliveries?q=zed").json["deliveries"]
    assert [d["email"] for d in found] == ["zed0@example.com"]
    assert found[0]["state"] == "pending" and found[0]["message_id"].startswith("<")
    assert api.get(f"/api/v1/campaigns/{campaign_id}/deliveries?state=sent").json[
        "deliveries"] == []
    assert api.get(f"/api/v1/campaigns/{campaign_id}/deliveries?state=nope").status_code == 422


def test_check_renders_the_draft_for_a_person_with_errors_and_warnings(api, app):
    with app.app_context():
        [sid] = add_subscribers(1, tag="friends", first_name="Grace")
    campaign_id = create(api, subject="Re: coffee, {{ first_name }}?")["id"]
    body = api.get(f"/api/v1/campaigns/{campaign_id}/check?subscriber_id={sid}").json
    assert body["subject"] == "Re: coffee, Grace?"
    assert body["errors"] == [] and body["audience_count"] == 1
    assert any("deceptive" in w for w in body["warnings"])
    api.patch(f"/api/v1/campaigns/{campaign_id}", json={"body_mjml": "<mjml><mj-body>"})
    broken = api.get(f"/api/v1/campaigns/{campaign_id}/check").json
    assert broken["errors"][0]["line"] == 1 and "html" not in broken


def test_schedule_takes_a_local_time_and_zone(api, app):
    with app.app_context():
        add_subscribers(1, tag="friends")
    campaign_id = create(api)["id"]
    response = api.post(f"/api/v1/campaigns/{campaign_id}/schedule",
                        json={"at": "2099-07-01T09:30", "timezone": "America/New_York"})
    assert response.status_code == 202
    assert response.json["scheduled_at"] == "2099-07-01T13:30:00Z"
    assert api.post(f"/api/v1/campaigns/{campaign_id}/schedule",
                    json={"at": "soon"}).status_code == 422


def test_schedule_with_an_offset_is_that_moment_whatever_the_zone(api, app):
    with app.app_context():
        add_subscribers(1, tag="friends")
    campaign_id = create(api)["id"]
    response = api.post(f"/api/v1/campaigns/{campaign_id}/schedule",
                        json={"at": "2099-07-01T09:30+02:00", "timezone": "America/New_York"})
    assert response.json["scheduled_at"] == "2099-07-01T07:30:00Z"


def test_unknown_campaigns_are_404(api):
    assert api.get("/api/v1/campaigns/999").json["error"] == "not_found"


def test_campaigns_are_listed_newest_first(api, app):
    first, second = create(api)["id"], create(api, name="Later")["id"]
    listed = api.get("/api/v1/campaigns").json["campaigns"]
    assert [c["id"] for c in listed][:2] == [second, first]
    assert "body_mjml" not in listed[0]
    with app.app_context():
        db.session.remove()
