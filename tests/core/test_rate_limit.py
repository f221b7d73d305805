"""Per-sender limits shared by every worker: in the database, or in Redis when configured."""

import time
from types import SimpleNamespace

import pytest

from campaigns.core import rate_limit
from campaigns.db import db
from tests.support.services import require_redis


@pytest.fixture(params=["database", "redis"])
def app_settings(request):
    if request.param == "redis":
        return {"RATELIMIT_STORAGE_URL": require_redis()}
    return {}


@pytest.fixture(autouse=True)
def _clock_mid_window(monkeypatch):
    """Hold the limiter's clock half-way through an hour (and minute) to come, so that no
    window rolls over between two reservations of a test (which would refill it)."""
    now = time.time()
    fixed = now - now % 3600 + 3600 + 1830
    monkeypatch.setattr(rate_limit, "time", SimpleNamespace(time=lambda: fixed))


def test_a_sender_gets_no_more_than_the_limit_per_minute(app_ctx):
    sender = f"limit-{time.time_ns()}@example.com"
    assert rate_limit.reserve(sender, 3, per_minute=5).count == 3
    second = rate_limit.reserve(sender, 3, per_minute=5)
    assert second.count == 2 and 0 < second.retry_after <= 60
    assert rate_limit.reserve(sender, 3, per_minute=5).count == 0
    assert rate_limit.reserve(f"other-{sender}", 3, per_minute=5).count == 3
    db.session.commit()


def test_the_tighter_of_two_limits_wins(app_ctx):
    sender = f"hour-{time.time_ns()}@example.com"
    assert rate_limit.reserve(sender, 10, per_minute=8, per_hour=5).count == 5
    assert rate_limit.reserve(sender, 1, per_minute=8, per_hour=5).count == 0


def test_no_limit_means_everything_is_granted(app_ctx):
    assert rate_limit.reserve("free@example.com", 500).count == 500


def test_the_default_limit_applies_when_a_campaign_sets_none(app_ctx):
    app_ctx.config["SEND_RATE_PER_MINUTE"] = 2
    assert rate_limit.reserve(f"default-{time.time_ns()}@example.com", 5).count == 2
