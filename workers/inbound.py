"""Inbound actors: process a stored message, poll a mailbox; and their sweeps."""

from __future__ import annotations

import logging
import os
import socket
from datetime import timedelta

import dramatiq
from flask import current_app
from sqlalchemy import select

from campaigns import jobs
from campaigns.core import leases
from campaigns.core.inbound.claim import any_stored
from campaigns.core.inbound.store import PROCESS_ACTOR
from campaigns.db import db, utcnow
from campaigns.mail.intake import imap
from campaigns.mail.intake.pipeline import BATCH, process_batch
from campaigns.models import InboundMessage, InboundStatus
from workers.sweeps import sweep

log = logging.getLogger(__name__)


@dramatiq.actor(actor_name=PROCESS_ACTOR, queue_name="inbound", max_retries=8,
                min_backoff=2_000, max_backoff=300_000)
def process(*inbound_ids: int) -> None:
    """Understand, match and file stored messages (those already done are skipped).

    Other stored messages waiting behind these are taken into the same batch, so a burst of
    single-message jobs (webhook, LMTP) is processed at batch speed; their own jobs then find
    nothing left to do.
    """
    if not any_stored(list(inbound_ids)):
        return  # already taken into an earlier batch
    process_batch(list(inbound_ids), also_waiting=max(BATCH - len(inbound_ids), 0))


@dramatiq.actor(actor_name="inbound.poll", queue_name="inbound", max_retries=0,
                time_limit=10 * 60 * 1000)
def poll(mailbox_key: str) -> None:
    """Poll one configured mailbox, unless another process is polling it right now."""
    config = next((c for c in imap.configured_mailboxes() if c.key == mailbox_key), None)
    if config is None:
        return  # the mailbox was removed from the settings since the job was queued
    holder = f"{socket.gethostname()}:{os.getpid()}"
    # Held for most of a sweep interval: two processes do not poll one mailbox at once, and
    # the next sweep polls again (deduplication makes an overlapping poll harmless anyway).
    ttl = timedelta(seconds=current_app.config["SWEEP_INTERVAL"] * 0.9)
    won = leases.acquire(f"imap:{mailbox_key}"[:100], holder, ttl)
    db.session.commit()
    if won:
        report = imap.poll(config)
        log.info("polled %s: %d new, %d stored", report.mailbox, report.seen, len(report.stored))


@sweep
def poll_mailboxes() -> None:
    """Queue a poll of every configured IMAP mailbox."""
    for config in imap.configured_mailboxes():
        jobs.publish_now("inbound.poll", config.key, queue="inbound")


@sweep
def requeue_stored_messages() -> None:
    """Queue again messages left stored (a lost broker message never loses a reply)."""
    stale = utcnow() - timedelta(seconds=current_app.config["SWEEP_STALE_AFTER"])
    ids = db.session.scalars(select(InboundMessage.id).where(
        InboundMessage.status == InboundStatus.STORED, InboundMessage.received_at < stale)
        .order_by(InboundMessage.id).limit(1000)).all()
    for start in range(0, len(ids), BATCH):
        jobs.publish_now(PROCESS_ACTOR, *ids[start:start + BATCH], queue="inbound")
