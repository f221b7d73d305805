"""Hand work to workers by actor name, published only after the database commit.

This is the one seam between the web side and the workers: ``enqueue("domain.verb", id)``
parks a Dramatiq message on the SQLAlchemy session; an ``after_commit`` hook publishes it and
the end of a transaction that did not commit drops it (ARCHITECTURE.md, invariant 3). The
web code never imports ``workers``: actors are addressed by name and queue.
"""

from __future__ import annotations

import importlib
import logging
import threading
from typing import Any

import dramatiq
from dramatiq.brokers.stub import StubBroker
from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from campaigns.db import db
from campaigns.errors import ConfigurationError

log = logging.getLogger(__name__)

QUEUES = ("default", "outbound", "inbound")
_PENDING = "campaigns.pending_jobs"
_brokers: dict[str, dramatiq.Broker] = {}
_brokers_lock = threading.Lock()


def enqueue(actor_name: str, *args: Any, queue: str = "default",
            delay_ms: int | None = None, **kwargs: Any) -> None:
    """Park a job on the current session; it is published after the commit, never before."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")
    message = dramatiq.Message(queue_name=queue, actor_name=actor_name, args=args,
                               kwargs=kwargs, options={})
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback, even with no SQL run yet, ends it and drops the job
    session.info.setdefault(_PENDING, []).append((message, delay_ms))


def publish_now(actor_name: str, *args: Any, queue: str = "default",
                delay_ms: int | None = None, **kwargs: Any) -> None:
    """Publish a job at once, outside any transaction (sweeps and CLI use this)."""
    message = dramatiq.Message(queue_name=queue, actor_name=actor_name, args=args,
                               kwargs=kwargs, options={})
    get_broker().enqueue(message, delay=delay_ms)


def get_broker(app: Flask | None = None) -> dramatiq.Broker:
    """Return the broker of the app (the current one by default)."""
    return (app or current_app).extensions["campaigns.broker"]


def build_broker(url: str) -> dramatiq.Broker:
    """Return the process-wide broker for a URL: Redis, RabbitMQ or the in-process stub."""
    with _brokers_lock:
        if url not in _brokers:
            _brokers[url] = _new_broker(url)
            for queue in QUEUES:
                _brokers[url].declare_queue(queue)
        return _brokers[url]


def _new_broker(url: str) -> dramatiq.Broker:
    """Create a broker of the kind the URL names."""
    if not url:
        return StubBroker()
    if url.startswith(("redis://", "rediss://", "unix://")):
        from dramatiq.brokers.redis import RedisBroker

        return RedisBroker(url=url)
    if url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        # Publisher confirms: a publish returns only once RabbitMQ has taken the message.
        return RabbitmqBroker(url=url, confirm_delivery=True)
    raise ConfigurationError(f"BROKER_URL must be redis://, amqp:// or empty, not {url!r}")


def is_in_process(app: Flask | None = None) -> bool:
    """Tell whether jobs run in this process (no broker configured)."""
    return not (app or current_app).config["BROKER_URL"]


def start_in_process_worker(app: Flask) -> Any:
    """Start the worker threads and sweep timer inside this process (one-process mode)."""
    module_name, _, func = app.config["INPROCESS_RUNNER"].partition(":")
    return getattr(importlib.import_module(module_name), func)(app)


@event.listens_for(Session, "after_commit")
def _publish_pending(session: Session) -> None:
    """Publish the jobs parked during the transaction that just committed."""
    if session.in_nested_transaction():
        return  # SQLAlchemy fires after_commit for a released savepoint too: wait for the root
    pending = session.info.pop(_PENDING, [])
    if not pending:
        return
    broker = get_broker()
    for message, delay_ms in pending:
        try:
            broker.enqueue(message, delay=delay_ms)
        except Exception:  # noqa: BLE001 - the ledger is the truth; the sweep re-enqueues
            log.warning("could not publish %s; the sweep will pick the work up",
                        message.actor_name, exc_info=True)


@event.listens_for(Session, "after_transaction_end")
def _drop_uncommitted(session: Session, transaction: SessionTransaction) -> None:
    """Drop jobs of an outermost transaction that ended without a commit."""
    if transaction.parent is None and transaction.nested is False:
        dropped = session.info.pop(_PENDING, None)
        if dropped:
            log.debug("dropped %d job(s) of a rolled-back transaction", len(dropped))


def init_app(app: Flask) -> None:
    """Build the broker for BROKER_URL and make it the global Dramatiq broker."""
    broker = build_broker(app.config["BROKER_URL"])
    dramatiq.set_broker(broker)
    app.extensions["campaigns.broker"] = broker
    if is_in_process(app) and app.config["INPROCESS_WORKER"] and not app.testing:
        # Served by `flask run` or gunicorn without a broker: start the worker on first use.
        app.before_request(lambda: start_in_process_worker(app) and None)
