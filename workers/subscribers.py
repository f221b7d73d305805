"""Subscriber work in the background: big imports, signup confirmation emails, tidying up."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import dramatiq
from flask import current_app
from sqlalchemy import select

from campaigns.core import imports, signup
from campaigns.core.subscribers import delete_subscribers
from campaigns.db import db, utcnow
from campaigns.errors import CampaignsError, PermanentMailError
from campaigns.mail.backends import backend_for_app
from campaigns.mail.signup import confirmation_envelope
from campaigns.models import ImportStatus, Subscriber, SubscriberImport
from workers.sweeps import sweep

log = logging.getLogger(__name__)
KEEP_IMPORT_FILES = timedelta(days=1)


@dramatiq.actor(actor_name="subscribers.import", queue_name="default", max_retries=3,
                time_limit=60 * 60 * 1000, on_retry_exhausted="subscribers.import_failed")
def run_import(import_id: int) -> None:
    """Run a queued import chunk by chunk, committing each (a retry resumes after the last)."""
    imp = db.session.get(SubscriberImport, import_id)
    if imp is None or imp.status != ImportStatus.RUNNING:
        return  # done already, or gone
    try:
        imports.run_import(imp, on_chunk=lambda _: db.session.commit())
    except CampaignsError as exc:  # the file itself is the problem: retrying cannot help
        db.session.rollback()
        imports.mark_failed(db.session.get(SubscriberImport, import_id), exc.message)
    db.session.commit()


@dramatiq.actor(actor_name="subscribers.import_failed", queue_name="default", max_retries=0)
def import_failed(message: dict[str, Any], retries: dict[str, Any]) -> None:
    """Mark an import failed once its retries are spent, so the UI stops waiting."""
    imp = db.session.get(SubscriberImport, message["args"][0])
    if imp is not None and imp.status == ImportStatus.RUNNING:
        imports.mark_failed(imp, f"The import failed {retries.get('retries', 0) + 1} times "
                                 f"(see the worker log). Rows written before that stay on the "
                                 f"list; importing the file again finishes the job.")
        db.session.commit()


@dramatiq.actor(actor_name="subscribers.send_confirmation", queue_name="default",
                max_retries=5, throws=(PermanentMailError,))
def send_confirmation(subscriber_id: int, tag: str = "") -> None:
    """Email a double opt-in link to someone who signed up (unless it is no longer needed)."""
    subscriber = db.session.get(Subscriber, subscriber_id)
    if subscriber is None or not signup.awaits_confirmation(subscriber):
        return
    envelope = confirmation_envelope(subscriber, signup.confirm_url(subscriber, tag))
    with backend_for_app(current_app) as backend:
        refused = backend.send(envelope)
    if refused:
        log.info("signup confirmation to subscriber %s refused: %s", subscriber_id, refused)


@sweep
def remove_unconfirmed_signups() -> None:
    """Delete people who signed up and never confirmed within SIGNUP_CONFIRM_DAYS."""
    ids = signup.unconfirmed_before(current_app.config["SIGNUP_CONFIRM_DAYS"])
    if ids:
        delete_subscribers(ids)
        db.session.commit()


@sweep
def remove_old_import_files() -> None:
    """Delete uploaded files a day after their import (drafts abandoned for a day too)."""
    cutoff = utcnow() - KEEP_IMPORT_FILES
    old = db.session.scalars(select(SubscriberImport).where(
        SubscriberImport.created_at < cutoff, SubscriberImport.path != "",
        SubscriberImport.status != ImportStatus.RUNNING)).all()
    for imp in old:
        Path(imp.path).unlink(missing_ok=True)
        imp.path = ""
    db.session.commit()
