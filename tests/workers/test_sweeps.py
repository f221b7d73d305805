"""The periodic sweep: one process per interval wins the lease and every task runs."""

from datetime import timedelta

import pytest

from campaigns.core import leases
from campaigns.db import db
from workers import scheduler, sweeps


def test_only_one_holder_gets_a_lease_until_it_expires(app_ctx):
    assert leases.acquire("job", "a", timedelta(seconds=60)) is True
    assert leases.acquire("job", "b", timedelta(seconds=60)) is False
    db.session.commit()


def test_an_expired_lease_goes_to_the_next_holder(app_ctx):
    assert leases.acquire("job", "a", timedelta(seconds=-1)) is True
    assert leases.acquire("job", "b", timedelta(seconds=60)) is True


def test_a_tick_enqueues_the_sweep_once_per_interval(app, worker):
    ran = []
    task = sweeps.sweep(lambda: ran.append(1))
    try:
        assert scheduler.tick(app, "host:1") is True
        assert scheduler.tick(app, "host:2") is False
        worker.drain()
        assert ran == [1]
    finally:
        sweeps._TASKS.remove(task)


def test_one_failing_task_does_not_stop_the_others(app_ctx):
    ran = []

    def broken() -> None:
        raise ValueError("boom")

    def fine() -> None:
        ran.append("fine")

    sweeps.sweep(broken)
    sweeps.sweep(fine)
    try:
        with pytest.raises(RuntimeError, match="broken: boom"):
            sweeps.run.fn()
        assert ran == ["fine"]
    finally:
        sweeps._TASKS.remove(broken)
        sweeps._TASKS.remove(fine)
