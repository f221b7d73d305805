"""What ``campaigns worker`` (dramatiq) imports in each worker process."""

from __future__ import annotations

import importlib

from campaigns import create_app
from workers import broker as broker_setup
from workers import scheduler

app = create_app()
broker = broker_setup.setup(app)
for module in app.config["WORKER_MODULES"]:
    importlib.import_module(module)
scheduler.start(app)
