"""The SMTP batch loop: windows of messages over one connection, whatever the rows are.

The loop knows nothing of campaigns: a ``SendStore`` says which rows it may send (after
durably marking a window of them ``sending``) and records the outcomes. Campaign deliveries
use it; a one-on-one follow-up reply is one message (workers/followups.py), sent alone.
Before each window the store commits
the previous window's outcomes together with the next window's ``sending`` marks: one commit
per window, and a crash leaves at most one window per connection unaccounted for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from campaigns.errors import MailError, TransientMailError, UncertainDeliveryError
from campaigns.mail.backends import Envelope, MailBackend


class Outcome(StrEnum):
    """What became of one message."""

    SENT = "sent"
    FAILED = "failed"  # refused for good (5xx) or could not be built
    RETRY = "retry"  # deferred (4xx or no connection before DATA): safe to send again
    UNCERTAIN = "uncertain"  # the line dropped after the data: never resent automatically
    SKIPPED = "skipped"  # suppressed or unsubscribed since it was queued


@dataclass(slots=True)
class Result:
    """The outcome of one row, with the server's words when it has any."""

    key: int
    outcome: Outcome
    detail: str = ""


@dataclass(slots=True)
class Outgoing:
    """One row ready to go: its envelope, or an outcome decided before sending."""

    key: int
    envelope: Envelope | None = None
    decided: Result | None = None


@dataclass(frozen=True, slots=True)
class Grant:
    """How many messages the rate limit allows now, and when to ask again if not all."""

    count: int
    retry_after: float = 0.0


class SendStore(Protocol):
    """Where the rows live: marks them durably before sending and records what happened."""

    def begin_window(self, results: list[Result], keys: list[int]) -> set[int]:
        """Record results, mark keys ``sending`` durably; return the keys this worker owns."""

    def end(self, results: list[Result], unsent: list[int], retry_after: float) -> None:
        """Record the last results and give back rows never marked (retry after a delay)."""

    def stopped(self) -> bool:
        """Tell whether sending should stop now (paused or cancelled)."""


def send_all(backend: MailBackend, store: SendStore, keys: Sequence[int],
             prepare: Callable[[int], Outgoing], *, window: int,
             limit: Callable[[int], Grant] | None = None, retry_delay: float = 60) -> None:
    """Send the rows in windows over the backend's one connection; the store records all."""
    results, position = [], 0
    while position < len(keys):
        if store.stopped():
            return _finish(store, results, keys[position:], 0.0)
        chunk = [prepare(key) for key in keys[position:position + window]]
        results += [item.decided for item in chunk if item.decided is not None]
        ready = [item for item in chunk if item.decided is None]
        grant = limit(len(ready)) if limit is not None and ready else Grant(len(ready))
        marked = store.begin_window(results, [item.key for item in ready[:grant.count]])
        results = send_window(backend, [item for item in ready[:grant.count]
                                        if item.key in marked])
        position += len(chunk)
        if grant.count < len(ready):
            unsent = [item.key for item in ready[grant.count:]] + list(keys[position:])
            return _finish(store, results, unsent, grant.retry_after)
        if _connection_down(results):
            return _finish(store, results, keys[position:], retry_delay)
    return _finish(store, results, [], 0.0)


def send_window(backend: MailBackend, items: list[Outgoing]) -> list[Result]:
    """Send a window's messages (pipelined when the backend can); name each outcome."""
    send_many = getattr(backend, "send_many", None)
    if send_many is not None:
        errors = send_many([item.envelope for item in items])
    else:
        errors = [_attempt(backend, item.envelope) for item in items]
    return [_result(item.key, error) for item, error in zip(items, errors, strict=True)]


def _attempt(backend: MailBackend, envelope: Envelope | None) -> MailError | None:
    """Run one SMTP transaction; return its error instead of raising it."""
    assert envelope is not None
    try:
        backend.send(envelope)
    except MailError as exc:
        return exc
    return None


def _result(key: int, error: MailError | None) -> Result:
    """Name the outcome of one transaction from the error it ended in, if any."""
    if error is None:
        return Result(key, Outcome.SENT)
    if isinstance(error, UncertainDeliveryError):
        return Result(key, Outcome.UNCERTAIN, error.message)
    if isinstance(error, TransientMailError):
        detail = error.message if "smtp_code" in error.details \
            else f"no connection: {error.message}"
        return Result(key, Outcome.RETRY, detail)
    return Result(key, Outcome.FAILED, error.message)


def _connection_down(results: list[Result]) -> bool:
    """Tell whether the last message found no server to talk to."""
    return bool(results) and results[-1].detail.startswith("no connection:")


def _finish(store: SendStore, results: list[Result], unsent: Sequence[int],
            retry_after: float) -> None:
    """Record the last window and give back what was not sent."""
    store.end(results, list(unsent), retry_after)
