"""Broker set-up: built from the app's settings before any actor is declared."""

from __future__ import annotations

import dramatiq
from flask import Flask

from campaigns import jobs
from workers.middleware import AppContext


def setup(app: Flask) -> dramatiq.Broker:
    """Make the app's broker the global one and bind its messages to this app."""
    broker = jobs.get_broker(app)
    dramatiq.set_broker(broker)
    for middleware in broker.middleware:
        if isinstance(middleware, AppContext):
            middleware.app = app  # a process reusing its broker with a new app (tests)
            return broker
    broker.add_middleware(AppContext(app))
    return broker
