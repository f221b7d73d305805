"""The periodic sweep: one actor that runs every registered housekeeping task.

Tasks register with ``@sweep``; the scheduler enqueues ``sweeps.run`` every SWEEP_INTERVAL
seconds from whichever process holds the sweep lease.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import dramatiq

log = logging.getLogger(__name__)

_TASKS: list[Callable[[], None]] = []


def sweep(task: Callable[[], None]) -> Callable[[], None]:
    """Register a housekeeping task (it runs in an app context and commits its own work)."""
    if task not in _TASKS:
        _TASKS.append(task)
    return task


def registered() -> list[Callable[[], None]]:
    """Return the registered tasks in registration order."""
    return list(_TASKS)


@dramatiq.actor(actor_name="sweeps.run", queue_name="default", max_retries=0)
def run() -> None:
    """Run every task; one failing task does not stop the others, but fails the run."""
    from campaigns.db import db

    failures = []
    for task in registered():
        try:
            task()
        except Exception as exc:  # noqa: BLE001 - reported below after the other tasks ran
            db.session.rollback()
            log.exception("sweep task %s failed", task.__name__)
            failures.append(f"{task.__name__}: {exc}")
    if failures:
        raise RuntimeError("sweep tasks failed: " + "; ".join(failures))
