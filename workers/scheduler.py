"""A timer thread that enqueues the sweep; a database lease makes one process win per tick."""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import timedelta

from flask import Flask

from campaigns import jobs
from campaigns.core import leases
from campaigns.db import db

log = logging.getLogger(__name__)
LEASE = "sweeps.run"


def tick(app: Flask, holder: str) -> bool:
    """Enqueue the sweep if this holder wins the lease for this interval."""
    interval = app.config["SWEEP_INTERVAL"]
    with app.app_context():
        won = leases.acquire(LEASE, holder, timedelta(seconds=interval * 0.9))
        db.session.commit()
        if won:
            jobs.publish_now("sweeps.run")
        db.session.remove()
    return won


def start(app: Flask) -> threading.Event:
    """Start the timer thread; set the returned event to stop it."""
    stop = threading.Event()
    holder = f"{socket.gethostname()}:{os.getpid()}"

    def loop() -> None:
        while not stop.wait(app.config["SWEEP_INTERVAL"]):
            try:
                tick(app, holder)
            except Exception:  # noqa: BLE001 - a database or broker hiccup; retry next tick
                log.warning("sweep tick failed; trying again next interval", exc_info=True)

    threading.Thread(target=loop, name="campaigns-scheduler", daemon=True).start()
    return stop
