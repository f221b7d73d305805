"""Dramatiq middleware: every message runs inside one app context with its own DB session."""

from __future__ import annotations

import threading

import dramatiq
from flask import Flask
from flask.ctx import AppContext as FlaskAppContext


class AppContext(dramatiq.Middleware):
    """Push the app context before each message and remove the session after it."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._local = threading.local()

    def before_process_message(self, broker: dramatiq.Broker, message: dramatiq.Message) -> None:
        context: FlaskAppContext = self.app.app_context()
        context.push()
        self._local.context = context

    def after_process_message(self, broker: dramatiq.Broker, message: dramatiq.Message, *,
                              result: object = None, exception: BaseException | None = None
                              ) -> None:
        self._end(rollback=exception is not None)

    def after_skip_message(self, broker: dramatiq.Broker, message: dramatiq.Message) -> None:
        self._end(rollback=True)

    def _end(self, *, rollback: bool) -> None:
        """Roll back what the actor did not commit, close the session, pop the context."""
        context = getattr(self._local, "context", None)
        if context is None:
            return
        from campaigns.db import db

        try:
            if rollback:
                db.session.rollback()
            db.session.remove()
        finally:
            self._local.context = None
            context.pop()
