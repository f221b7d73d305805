"""Actors that exist only in tests, to watch the job machinery itself."""

import dramatiq

RECORDED: list[object] = []


@dramatiq.actor(actor_name="tests.record", queue_name="default", max_retries=0)
def record(value: object) -> None:
    """Remember the value, so a test can tell that the job ran."""
    RECORDED.append(value)
