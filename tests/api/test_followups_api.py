"""The follow-ups API: list, read, update."""

from campaigns.db import db
from tests.support import factories


def seed(app):
    with app.app_context():
        coffee = factories.campaign("Coffee")
        f = factories.followup(factories.subscriber(first_name="Ann"), coffee, text="Yes!")
        factories.followup(factories.subscriber(first_name="Bob"), factories.campaign("Other"))
        db.session.commit()
        return coffee.id, f.id


def test_list_filters_by_campaign_and_status(api, app):
    campaign_id, followup_id = seed(app)
    body = api.get(f"/api/v1/followups?campaign={campaign_id}&status=open").json
    assert [f["id"] for f in body["followups"]] == [followup_id]
    assert body["next"] is None


def test_get_returns_the_thread(api, app):
    _, followup_id = seed(app)
    body = api.get(f"/api/v1/followups/{followup_id}").json
    assert body["messages"][0]["text"] == "Yes!"
    assert body["messages"][0]["direction"] == "inbound"


def test_patch_snoozes_then_finishes_with_an_outcome_and_a_note(api, app):
    _, followup_id = seed(app)
    snoozed = api.patch(f"/api/v1/followups/{followup_id}",
                        json={"status": "snoozed", "snoozed_until": "2099-01-01T09:00:00Z"})
    assert snoozed.json["snoozed_until"] == "2099-01-01T09:00:00Z"
    done = api.patch(f"/api/v1/followups/{followup_id}",
                     json={"status": "done", "outcome": "coffee_booked", "note": "Tue 10am"})
    assert (done.json["status"], done.json["outcome"]) == ("done", "coffee_booked")
    assert done.json["notes"][0]["body"] == "Tue 10am"


def test_patch_with_a_bad_time_is_a_422_with_the_error_shape(api, app):
    _, followup_id = seed(app)
    response = api.patch(f"/api/v1/followups/{followup_id}",
                         json={"status": "snoozed", "snoozed_until": "soon"})
    assert response.status_code == 422
    assert set(response.json) == {"error", "message"}


def test_an_unknown_followup_is_a_json_404(api):
    response = api.get("/api/v1/followups/999")
    assert (response.status_code, response.json["error"]) == (404, "not_found")


def test_reply_queues_a_message_in_the_thread(api, app, worker):
    _, followup_id = seed(app)
    response = api.post(f"/api/v1/followups/{followup_id}/reply", json={"text": "When suits?"})
    assert response.status_code == 202
    assert response.json["state"] == "pending"
    worker.drain()
    thread = api.get(f"/api/v1/followups/{followup_id}").json["messages"]
    assert [m["direction"] for m in thread] == ["inbound", "outbound"]
    assert thread[1]["state"] == "sent"


def test_reply_without_text_is_a_422(api, app):
    _, followup_id = seed(app)
    assert api.post(f"/api/v1/followups/{followup_id}/reply", json={}).status_code == 422
