"""Jobs through the real Redis and RabbitMQ brokers: published after commit, never before."""

import threading
import time

import dramatiq
import pytest

from campaigns import jobs
from campaigns.db import db
from tests.support.services import require_rabbitmq, require_redis

pytestmark = pytest.mark.services


@pytest.fixture(params=["redis", "rabbitmq"])
def app_settings(request):
    url = require_redis() if request.param == "redis" else require_rabbitmq()
    return {"BROKER_URL": url}


@pytest.fixture
def seen(app_ctx):
    """Values a real worker consumed from the real broker."""
    broker = jobs.get_broker()
    broker.flush_all()
    values: list[str] = []
    arrived = threading.Event()

    def record(value: str) -> None:
        values.append(value)
        arrived.set()

    broker.actors.pop("tests.real_record", None)  # declared again with this test's list
    dramatiq.actor(record, broker=broker, actor_name="tests.real_record", queue_name="default",
                   max_retries=0)
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=100)
    worker.start()
    yield values
    worker.stop()
    broker.flush_all()


def _wait_for(values: list[str], expected: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while expected not in values and time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_committed_job_reaches_a_worker_through_the_broker(seen):
    jobs.enqueue("tests.real_record", "committed")
    db.session.commit()
    _wait_for(seen, "committed")
    assert seen == ["committed"]


def test_a_rolled_back_job_never_reaches_the_broker(seen):
    jobs.enqueue("tests.real_record", "rolled back")
    db.session.rollback()
    jobs.enqueue("tests.real_record", "marker")
    db.session.commit()
    _wait_for(seen, "marker")
    time.sleep(0.2)
    assert seen == ["marker"]
