"""The campaign pages: presets, the editor with its live checks and preview, sending, progress."""

from pathlib import Path

import pytest

from campaigns.core import ledger
from campaigns.db import db
from campaigns.models import Campaign, CampaignStatus
from tests.support.campaigns import SIMPLE_BODY, add_subscribers, make_campaign
from tests.support.web import csrf_token, post_form


def _editor_form(campaign, **changes):
    data = {"name": campaign.name, "goal": campaign.goal, "subject": campaign.subject,
            "body_mjml": campaign.body_mjml, "body_text": campaign.body_text,
            "from_name": campaign.from_name, "from_email": campaign.from_email,
            "reply_mode": "tracked", "tags": "", "segment_id": "", "rate_per_minute": "0",
            "rate_per_hour": "0", "daily_conversation_cap": "0", "preview_subscriber": ""}
    data.update(changes)
    return data


@pytest.fixture
def draft(app_ctx):
    add_subscribers(3, tag="friends")
    return make_campaign(audience={"tags": ["friends"]})


def test_a_new_campaign_starts_from_the_chosen_preset(logged_in, app_ctx):
    response = post_form(logged_in, "/campaigns/new", {"kind": "introduction_request",
                                                       "name": "Meet designers",
                                                       "goal": "Two intros"},
                         page="/campaigns/new")
    assert response.status_code == 302
    campaign = db.session.scalar(db.select(Campaign))
    assert campaign.kind == "introduction_request"
    assert campaign.subject == "Could you introduce me to someone?"
    preset_file = Path(app_ctx.template_folder) / "email/presets/introduction_request.mjml"
    assert campaign.body_mjml == preset_file.read_text()
    assert campaign.goal == "Two intros"
    assert response.headers["Location"].endswith(f"/campaigns/{campaign.id}/edit")


def test_the_editor_shows_the_audience_count_and_a_preview_for_a_real_person(logged_in, draft):
    html = logged_in.get(f"/campaigns/{draft.id}/edit").get_data(as_text=True)
    assert "<strong>3</strong> people in the audience" in html
    assert "Coffee, First0?" in html
    assert f"/campaigns/{draft.id}/preview.html?subscriber=" in html


def test_autosave_saves_the_draft_and_reports_errors_at_their_line(logged_in, draft):
    broken = SIMPLE_BODY.replace("</mj-column>\n", "", 1)
    token = csrf_token(logged_in, f"/campaigns/{draft.id}/edit")
    response = logged_in.post(f"/campaigns/{draft.id}/autosave",
                              data={**_editor_form(draft, body_mjml=broken), "csrf_token": token},
                              headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert ('data-line="4">Body, line 4</button>: MJML: &lt;mj-column&gt; is not closed '
            "before &lt;/mj-section&gt; on line 10") in html
    db.session.expire_all()
    assert db.session.get(Campaign, draft.id).body_mjml == broken


def test_the_preview_frame_has_its_own_policy_and_escapes_the_person(logged_in, app_ctx):
    [sid] = add_subscribers(1, prefix="xss", first_name="<img src=x onerror=alert(1)>")
    campaign = make_campaign()
    response = logged_in.get(f"/campaigns/{campaign.id}/preview.html?subscriber={sid}")
    html = response.get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img src=x" not in html
    assert "script-src" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_send_now_starts_the_campaign_and_shows_live_progress(logged_in, draft):
    response = post_form(logged_in, f"/campaigns/{draft.id}/send",
                         page=f"/campaigns/{draft.id}/edit")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Campaign, draft.id).status == CampaignStatus.SENDING
    assert ledger.counts(draft.id)["pending"] == 3
    html = logged_in.get(f"/campaigns/{draft.id}").get_data(as_text=True)
    assert 'hx-trigger="every 2s"' in html
    assert "person0@example.com" in html


def test_the_campaign_list_shows_status_and_counts(logged_in, draft):
    html = logged_in.get("/campaigns/").get_data(as_text=True)
    assert f'href="/campaigns/{draft.id}/edit">Coffee</a>' in html
    assert 'badge-draft">draft' in html


def test_saving_the_form_keeps_the_values_and_fills_the_text_part_on_request(logged_in,
                                                                            draft):
    form = _editor_form(draft, subject="New subject", tags="friends, vip",
                        action="generate_text")
    response = post_form(logged_in, f"/campaigns/{draft.id}/edit", form,
                         page=f"/campaigns/{draft.id}/edit")
    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Campaign, draft.id)
    assert saved.subject == "New subject"
    assert saved.audience == {"tags": ["friends", "vip"], "segment_id": None}
    assert saved.body_text.startswith("Hi {{ first_name | fallback(\"there\") }},")


def test_warnings_appear_before_sending(logged_in, draft):
    body = draft.body_mjml.replace('<a href="{{ unsubscribe_url }}">Unsubscribe</a>', "")
    token = csrf_token(logged_in, f"/campaigns/{draft.id}/edit")
    html = logged_in.post(f"/campaigns/{draft.id}/autosave", data={
        **_editor_form(draft, subject="Fwd: hello [topic]", body_mjml=body, tags="nobody"),
        "csrf_token": token}).get_data(as_text=True)
    assert "Gmail and others treat that as deceptive" in html
    assert "The email has no unsubscribe link" in html
    assert "The audience is empty" in html
    assert "Placeholders still to fill in: [topic]" in html


def test_a_sending_campaign_cannot_be_edited(logged_in, draft):
    post_form(logged_in, f"/campaigns/{draft.id}/send", page=f"/campaigns/{draft.id}/edit")
    response = logged_in.get(f"/campaigns/{draft.id}/edit")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/campaigns/{draft.id}")


def test_the_progress_fragment_reports_counts_rate_and_stops_polling_when_done(
        logged_in, draft, worker):
    post_form(logged_in, f"/campaigns/{draft.id}/send", page=f"/campaigns/{draft.id}/edit")
    live = logged_in.get(f"/campaigns/{draft.id}/progress").get_data(as_text=True)
    assert 'hx-trigger="every 2s"' in live and "emails/s" in live
    assert '<div class="stat stat-pending"><dt>pending</dt><dd>3</dd></div>' in live
    worker.drain()
    db.session.commit()  # requests share the test's session: end its read snapshot
    done = logged_in.get(f"/campaigns/{draft.id}/progress?sent=0&at=1").get_data(as_text=True)
    assert "hx-trigger" not in done
    assert '<div class="stat stat-sent"><dt>sent</dt><dd>3</dd></div>' in done


def test_the_ledger_is_filtered_by_state_and_address(logged_in, draft, worker):
    post_form(logged_in, f"/campaigns/{draft.id}/send", page=f"/campaigns/{draft.id}/edit")
    worker.drain()
    rows = logged_in.get(f"/campaigns/{draft.id}/ledger?state=sent&q=person1",
                         headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "person1@example.com" in rows and "person0@example.com" not in rows
    none = logged_in.get(f"/campaigns/{draft.id}/ledger?state=failed").get_data(as_text=True)
    assert "No emails match." in none


@pytest.mark.parametrize("action, status", [("pause", "paused"), ("cancel", "cancelled")])
def test_buttons_change_the_status(logged_in, draft, action, status):
    post_form(logged_in, f"/campaigns/{draft.id}/send", page=f"/campaigns/{draft.id}/edit")
    response = post_form(logged_in, f"/campaigns/{draft.id}/{action}",
                         page=f"/campaigns/{draft.id}")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Campaign, draft.id).status == status


def test_a_refused_action_says_why(logged_in, draft):
    post_form(logged_in, f"/campaigns/{draft.id}/resume", page=f"/campaigns/{draft.id}/edit")
    html = logged_in.get(f"/campaigns/{draft.id}/edit").get_data(as_text=True)
    assert "Only a paused campaign can be resumed. This one is draft." in html


def test_scheduling_from_the_editor(logged_in, draft):
    response = post_form(logged_in, f"/campaigns/{draft.id}/schedule",
                         {"when": "2099-03-01T08:00", "timezone": "Asia/Tokyo"},
                         page=f"/campaigns/{draft.id}/edit")
    assert response.headers["Location"].endswith(f"/campaigns/{draft.id}")
    db.session.expire_all()
    saved = db.session.get(Campaign, draft.id)
    assert (saved.status, saved.scheduled_at.isoformat()) == ("scheduled",
                                                              "2099-02-28T23:00:00")


def test_a_test_send_is_queued_for_the_user(logged_in, draft, worker):
    response = post_form(logged_in, f"/campaigns/{draft.id}/test", {"subscriber": ""},
                         page=f"/campaigns/{draft.id}/edit")
    assert response.status_code == 302
    worker.drain()
    from campaigns.mail.backends.memory import MemoryBackend

    assert [e.recipients for e in MemoryBackend.outbox] == [("owner@example.com",)]


def test_a_draft_can_be_deleted(logged_in, draft):
    post_form(logged_in, f"/campaigns/{draft.id}/delete", page=f"/campaigns/{draft.id}/edit")
    assert db.session.get(Campaign, draft.id) is None
