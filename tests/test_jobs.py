"""Jobs are published only after the commit; a rollback drops them."""

import pytest

from campaigns import jobs
from campaigns.db import db
from campaigns.errors import ConfigurationError
from tests.support import actors


@pytest.fixture(autouse=True)
def clear_recorded():
    actors.RECORDED.clear()


def test_a_job_enqueued_in_a_rolled_back_transaction_never_runs(app_ctx, worker):
    jobs.enqueue("tests.record", "rolled back")
    db.session.rollback()
    worker.drain()
    assert actors.RECORDED == []


def test_a_rolled_back_job_is_not_published_by_the_next_commit(app_ctx, worker):
    jobs.enqueue("tests.record", "rolled back")
    db.session.rollback()
    jobs.enqueue("tests.record", "next")
    db.session.commit()
    worker.drain()
    assert actors.RECORDED == ["next"]


def test_a_job_enqueued_in_a_committed_transaction_runs(app_ctx, worker):
    jobs.enqueue("tests.record", "committed")
    db.session.commit()
    worker.drain()
    assert actors.RECORDED == ["committed"]


def test_a_job_is_not_published_before_the_commit(app_ctx, worker):
    jobs.enqueue("tests.record", "waiting")
    worker.drain()
    assert actors.RECORDED == []
    db.session.commit()
    worker.drain()
    assert actors.RECORDED == ["waiting"]


def test_a_released_savepoint_does_not_publish_before_the_outer_commit(app_ctx, worker):
    with db.session.begin_nested():
        jobs.enqueue("tests.record", "inner")
    worker.drain()
    assert actors.RECORDED == []
    db.session.commit()
    worker.drain()
    assert actors.RECORDED == ["inner"]


def test_an_outer_rollback_drops_jobs_parked_in_a_released_savepoint(app_ctx, worker):
    with db.session.begin_nested():
        jobs.enqueue("tests.record", "inner")
    db.session.rollback()
    worker.drain()
    assert actors.RECORDED == []


def test_jobs_for_unknown_queues_are_refused(app_ctx):
    with pytest.raises(ValueError):
        jobs.enqueue("tests.record", 1, queue="nowhere")


def test_an_unknown_broker_url_is_a_configuration_error():
    with pytest.raises(ConfigurationError):
        jobs.build_broker("kafka://localhost")
