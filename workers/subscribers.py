"""Subscriber work in the background: big imports, signup confirmation emails, tidying up."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dramatiq
from flask import current_app
from sqlalchemy import select

from campaigns import jobs
from campaigns.core import imports, leases, signup
from campaigns.core.subscribers import delete_subscribers
from campaigns.db import db, utcnow
from campaigns.errors import CampaignsError, PermanentMailError
from campaigns.mail.backends import backend_for_app
from campaigns.mail.signup import confirmation_envelope
from campaigns.models import ImportStatus, Subscriber, SubscriberImport
from workers.sweeps import sweep

log = logging.getLogger(__name__)
KEEP_IMPORT_FILES = timedelta(days=1)
IMPORT_LEASE = timedelta(minutes=5)  # far longer than a chunk takes; renewed after each


@dramatiq.actor(actor_name="subscribers.import", queue_name="default", max_retries=3,
                time_limit=60 * 60 * 1000, on_retry_exhausted="subscribers.import_failed")
def run_import(import_id: int) -> None:
    """Run a queued import chunk by chunk, committing each (a retry resumes after the last).

    A lease, renewed after every chunk, makes a redelivered or duplicate message return at
    once while another worker is on it; the sweep resumes an import whose lease ran out.
    """
    imp = db.session.get(SubscriberImport, import_id)
    holder = uuid.uuid4().hex
    if imp is None or imp.status != ImportStatus.RUNNING or not _claim(import_id, holder):
        return  # done already, gone, or another worker is on it
    try:
        imports.run_import(imp, on_chunk=lambda _: _chunk_done(import_id, holder))
    except CampaignsError as exc:  # the file itself is the problem: retrying cannot help
        db.session.rollback()
        imports.mark_failed(db.session.get(SubscriberImport, import_id), exc.message)
    db.session.commit()


def _lease(import_id: int) -> str:
    return f"subscribers.import:{import_id}"


def _claim(import_id: int, holder: str) -> bool:
    """Take the import's lease (committed, so other workers see it)."""
    taken = leases.acquire(_lease(import_id), holder, IMPORT_LEASE)
    db.session.commit()
    return taken


def _chunk_done(import_id: int, holder: str) -> None:
    """Commit a chunk with the progress it made, and keep the lease."""
    if not leases.renew(_lease(import_id), holder, IMPORT_LEASE):
        raise RuntimeError(f"lost the lease of import {import_id}")  # rolls the chunk back
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
def resume_stale_imports() -> None:
    """Queue again a running import nobody works on (its worker died, its message was lost)."""
    cutoff = utcnow() - timedelta(seconds=current_app.config["SWEEP_STALE_AFTER"])
    for import_id in db.session.scalars(select(SubscriberImport.id).where(
            SubscriberImport.status == ImportStatus.RUNNING,
            SubscriberImport.created_at < cutoff)):
        if not leases.is_held(_lease(import_id)):
            jobs.publish_now(imports.ACTOR, import_id, queue="default")


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
    _remove_orphaned_uploads(cutoff)


def _remove_orphaned_uploads(cutoff: datetime) -> None:
    """Delete day-old files no import points at (their transaction never committed)."""
    kept = set(db.session.scalars(select(SubscriberImport.path)
                                  .where(SubscriberImport.path != "")))
    for path in imports.import_folder().iterdir():
        modified = datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(tzinfo=None)
        if str(path) not in kept and modified < cutoff:
            path.unlink(missing_ok=True)
