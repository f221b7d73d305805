"""The ledger against crashes: real dramatiq processes on Redis, killed with SIGKILL mid-send.

Each test runs worker processes (``python -m dramatiq``) against the test database, the real
Redis broker and a real SMTP server, and checks what the server received against the ledger.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest
from sqlalchemy import select, text

from campaigns import jobs
from campaigns.core import campaigns as verbs
from campaigns.core import ledger
from campaigns.db import db
from campaigns.models import Campaign, Delivery, DeliveryState
from tests.conftest import TEST_BROKER_URL
from tests.support.campaigns import add_subscribers, make_campaign
from tests.support.services import require_redis
from tests.support.smtp import SmtpServer
from tests.support.workers import WorkerPool

pytestmark = [pytest.mark.slow, pytest.mark.services]

PEOPLE, KILLS = 2000, 10
PROCESSES, THREADS, WINDOW = 2, 2, 8
S = DeliveryState


def redis_url() -> str:
    """The suite's Redis broker when it runs on Redis, else the services' Redis."""
    return TEST_BROKER_URL if TEST_BROKER_URL.startswith("redis") else require_redis()


@pytest.fixture
def smtp():
    # 10 ms per message and connection: the campaign lasts long enough for ten kills.
    with SmtpServer(pipelining=True, delay=0.01) as server:
        yield server


@pytest.fixture
def app_settings(smtp):
    return {"BROKER_URL": redis_url(), "MAIL_URL": smtp.url, "SEND_BATCH_SIZE": 50,
            "SEND_WINDOW": WINDOW, "SWEEP_INTERVAL": 1, "SWEEP_STALE_AFTER": 2,
            "LEDGER_BATCH_SIZE": 500}


@pytest.fixture
def pools(app):
    """Start worker pools on the test app's settings; every one is gone after the test."""
    started: list[WorkerPool] = []

    def start(**kwargs: int) -> WorkerPool:
        pool = WorkerPool(worker_env(app), **kwargs)
        started.append(pool)
        return pool.start()

    yield start
    for pool in started:
        pool.kill()


def worker_env(app) -> dict[str, str]:  # noqa: ANN001
    """The settings the worker processes get: the test app's, as CAMPAIGNS_* variables."""
    cfg = app.config
    names = ("BROKER_URL", "MAIL_URL", "SECRET_KEY", "BASE_URL", "REPLY_DOMAIN",
             "SEND_BATCH_SIZE", "SEND_WINDOW", "SWEEP_INTERVAL", "SWEEP_STALE_AFTER",
             "LEDGER_BATCH_SIZE")
    env = {f"CAMPAIGNS_{name}": str(cfg[name]) for name in names}
    env.update(CAMPAIGNS_DATABASE_URL=_named_connections(cfg["SQLALCHEMY_DATABASE_URI"]),
               CAMPAIGNS_INSTANCE_PATH=cfg["INSTANCE_PATH"], CAMPAIGNS_LOG_LEVEL="WARNING",
               CAMPAIGNS_INPROCESS_WORKER="false")
    return env


WORKER_CONNECTIONS = "fault-test-worker"


def _named_connections(url: str) -> str:
    """Name the workers' PostgreSQL connections, so the test can see when they are gone."""
    if not url.startswith("postgresql"):
        return url
    return f"{url}{'&' if '?' in url else '?'}application_name={WORKER_CONNECTIONS}"


def kill_and_settle(pool: WorkerPool) -> None:
    """SIGKILL a pool, then wait until PostgreSQL has finished what it had already sent.

    A statement sent just before the kill still runs, and in autocommit commits, in its
    server backend; the ledger must be read after that, not before. The backend exits once
    it finds its client gone.
    """
    if db.engine.dialect.name != "postgresql":
        pool.kill()
        return  # SQLite has no server: a write either committed before the kill or never
    query = text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name")

    def connections() -> int:
        db.session.commit()  # pg_stat_activity is a snapshot per transaction
        return db.session.scalar(query, {"name": WORKER_CONNECTIONS})

    assert connections() > 0, "the workers' connections are not named: nothing to wait for"
    pool.kill()
    wait_until(lambda: connections() == 0, 30, "the killed workers' connections to close")


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def rows_in(*states: DeliveryState) -> set[int]:
    """Return the ids of the ledger rows now in these states (a fresh read)."""
    db.session.commit()
    return set(db.session.scalars(select(Delivery.id).where(Delivery.state.in_(states))))


def campaign_done(campaign_id: int) -> bool:
    db.session.commit()
    return db.session.get(Campaign, campaign_id).status == "sent"


def test_kill_9_at_random_points_loses_and_doubles_nothing(app_ctx, smtp, pools, capsys):
    jobs.get_broker().flush_all()
    add_subscribers(PEOPLE)
    campaign = make_campaign()
    verbs.start(campaign)
    db.session.commit()
    seed = int(os.environ.get("FAULT_SEED", random.randrange(10**6)))
    rng, in_flight_at_kill, lines = random.Random(seed), [], []
    for kill in range(1, KILLS + 1):
        pool = pools(processes=PROCESSES, threads=THREADS)
        received = len(smtp.recipients())
        room = (PEOPLE - received) // (KILLS - kill + 3)  # keep work for the kills to come
        target = received + rng.randint(1, max(2, room))
        wait_until(lambda t=target: len(smtp.recipients()) >= t, 90, f"{target} emails")
        kill_and_settle(pool)
        sending = rows_in(S.SENDING) - set().union(*in_flight_at_kill)
        in_flight_at_kill.append(sending)
        lines.append((kill, len(smtp.recipients()), len(sending)))
    pool = pools(processes=PROCESSES, threads=THREADS)
    wait_until(lambda: campaign_done(campaign.id), 120, "the campaign to finish")
    pool.stop()

    counts = ledger.counts(campaign.id)
    addresses = dict(db.session.execute(select(Delivery.id, Delivery.email)).all())
    uncertain, sent, failed = rows_in(S.UNCERTAIN), rows_in(S.SENT), rows_in(S.FAILED)
    received = Counter(smtp.recipients())
    duplicates = {a for a, n in received.items() if n > 1}
    lost = {addresses[i] for i in sent if addresses[i] not in received}  # "sent", never seen
    lost |= {addresses[i] for i in set(addresses) - sent - uncertain - failed}  # unfinished
    with capsys.disabled():
        print(f"\nkill -9 x{KILLS} during a {PEOPLE}-person campaign (seed {seed}), "
              f"{PROCESSES} processes x {THREADS} threads, window {WINDOW}:")
        for (kill, seen, in_flight), flight in zip(lines, in_flight_at_kill, strict=True):
            mine = {addresses[i] for i in flight}
            print(f"  kill {kill:2}: {seen:4} received before it; in flight {in_flight:2} "
                  f"({len(mine & set(received)):2} had reached the server) -> uncertain "
                  f"{len(flight & uncertain):2}, lost {len(mine & lost)}, "
                  f"duplicates {len(mine & duplicates)}")
        print(f"  end: {counts}; lost {len(lost)}, duplicates {len(duplicates)}, "
              f"uncertain {len(uncertain)}")
    assert lost == set()
    assert duplicates <= {addresses[i] for i in uncertain}
    assert counts["sent"] + counts["uncertain"] + counts["failed"] == PEOPLE
    assert uncertain == set().union(*in_flight_at_kill)  # only rows in flight at a kill
    assert all(len(flight) <= PROCESSES * THREADS * WINDOW for flight in in_flight_at_kill)
    assert {addresses[i] for i in sent} <= set(received)


def test_a_double_clicked_send_and_two_worker_pools_send_each_email_once(app, smtp, client,
                                                                        api_token, pools):
    with app.app_context():
        jobs.get_broker().flush_all()
        add_subscribers(300)
        campaign_id = make_campaign().id
    answers: list[int] = []

    def click() -> None:
        response = client.post(f"/api/v1/campaigns/{campaign_id}/send",
                               headers={"Authorization": f"Bearer {api_token}"})
        answers.append(response.status_code)

    clicks = [threading.Thread(target=click) for _ in range(2)]
    for thread in clicks:
        thread.start()
    for thread in clicks:
        thread.join()
    assert sorted(answers) == [202, 409]
    with app.app_context():
        two = [pools(processes=1, threads=2) for _ in range(2)]
        wait_until(lambda: campaign_done(campaign_id), 90, "the campaign to finish")
        for pool in two:
            pool.stop()
        assert ledger.counts(campaign_id)["sent"] == 300
    received = Counter(smtp.recipients())
    assert len(received) == 300
    assert max(received.values()) == 1
