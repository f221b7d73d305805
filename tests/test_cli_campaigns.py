"""``campaigns campaigns``: send and follow the progress, list, pause, resume, cancel."""

from campaigns.db import db
from campaigns.mail.backends.memory import MemoryBackend
from tests.support.campaigns import add_subscribers, make_campaign


def test_send_follow_prints_progress_until_every_email_is_sent(app, runner, worker):
    with app.app_context():
        add_subscribers(7)
        campaign_id = make_campaign().id
    result = runner.invoke(args=["campaigns", "send", str(campaign_id), "--follow",
                                 "--interval", "0.05"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"Sending campaign {campaign_id}: Coffee"
    assert lines[-1].startswith("sent: sent 7/7 · failed 0 · pending 0 · uncertain 0")
    assert len(MemoryBackend.outbox) == 7


def test_sending_twice_is_refused_with_a_clear_message(app, runner):
    with app.app_context():
        add_subscribers(1)
        campaign_id = make_campaign().id
    assert runner.invoke(args=["campaigns", "send", str(campaign_id)]).exit_code == 0
    again = runner.invoke(args=["campaigns", "send", str(campaign_id)])
    assert again.exit_code == 1
    assert "already sending" in again.output


def test_list_pause_resume_and_cancel(app, runner):
    with app.app_context():
        add_subscribers(2)
        campaign_id = make_campaign().id
        db.session.remove()
    runner.invoke(args=["campaigns", "send", str(campaign_id)])
    assert runner.invoke(args=["campaigns", "pause", str(campaign_id)]).output == \
        f"Campaign {campaign_id}: paused.\n"
    assert f"{campaign_id}\tpaused\t0/2\tCoffee" in runner.invoke(
        args=["campaigns", "list"]).output
    assert runner.invoke(args=["campaigns", "resume", str(campaign_id)]).exit_code == 0
    assert runner.invoke(args=["campaigns", "cancel", str(campaign_id)]).exit_code == 0
    missing = runner.invoke(args=["campaigns", "cancel", "999"])
    assert missing.exit_code == 1 and "No campaign 999" in missing.output
