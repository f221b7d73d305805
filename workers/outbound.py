"""Outbound actors: send a batch of a campaign's ledger, build the ledger, test sends, the sweep.

One Dramatiq message per batch of rows, never per email. An actor owns its transactions: the
claim is committed, then each window of ``sending`` marks (with the previous window's
outcomes) is committed before its SMTP transactions run.
"""

from __future__ import annotations

import logging
import math
import os
import secrets
from datetime import timedelta
from typing import Any

import dramatiq
from flask import current_app
from sqlalchemy import func, select

from campaigns import jobs
from campaigns.core import campaigns as campaign_verbs
from campaigns.core import composition, ledger, pacing, rate_limit, suppression
from campaigns.core.unsubscribe_tokens import unsubscribe_url
from campaigns.db import db, utcnow
from campaigns.errors import CampaignsError
from campaigns.mail.backends import backend_for_app
from campaigns.mail.compose import CampaignComposer, Recipient
from campaigns.mail.headers import new_message_id
from campaigns.mail.render import TemplateError
from campaigns.mail.sendloop import Outcome, Outgoing, Result, send_all
from campaigns.models import (
    Campaign,
    CampaignStatus,
    ConsentStatus,
    Delivery,
    Subscriber,
    User,
)
from workers.sweeps import sweep

log = logging.getLogger(__name__)
MAX_REQUEUE_PER_SWEEP = 50


class LedgerStore:
    """The campaign ledger as the send loop's store; every method commits."""

    def __init__(self, campaign: Campaign, batch_id: str, attempts: dict[int, int]) -> None:
        self.campaign_id, self.batch_id, self.attempts = campaign.id, batch_id, attempts
        self.next_retry: float | None = None  # seconds until the earliest deferred row is due

    def begin_window(self, results: list[Result], keys: list[int]) -> set[int]:
        """Record the last window and durably mark the next one sending."""
        self._record(results)
        marked = ledger.mark_sending(self.batch_id, keys)
        db.session.commit()
        return marked

    def end(self, results: list[Result], unsent: list[int], retry_after: float) -> None:
        """Record the last window and give back the rows never marked."""
        self._record(results)
        retry_at = utcnow() + timedelta(seconds=retry_after) if retry_after else None
        ledger.release(self.batch_id, unsent, retry_at)
        if unsent and retry_after:
            self._note_retry(retry_after)
        db.session.commit()

    def stopped(self) -> bool:
        """Tell whether the campaign was paused or cancelled meanwhile."""
        status = db.session.scalar(select(Campaign.status).where(Campaign.id == self.campaign_id))
        return status != CampaignStatus.SENDING

    def _record(self, results: list[Result]) -> None:
        """Record outcomes; a deferred row gets a retry time or, out of attempts, fails."""
        if not results:
            return
        cfg, now, retry_at = current_app.config, utcnow(), {}
        for result in results:
            if result.outcome is not Outcome.RETRY:
                continue
            made = self.attempts.get(result.key, 0) + 1
            if made >= cfg["SEND_MAX_ATTEMPTS"]:
                result.detail = f"gave up after {made} attempts: {result.detail}"
                continue
            wait = cfg["SEND_RETRY_BACKOFF"] * 2 ** (made - 1)
            retry_at[result.key] = now + timedelta(seconds=wait)
            self._note_retry(wait)
        ledger.record(self.batch_id, results, retry_at)

    def _note_retry(self, seconds: float) -> None:
        self.next_retry = seconds if self.next_retry is None else min(self.next_retry, seconds)


@dramatiq.actor(actor_name="outbound.send_batch", queue_name="outbound", max_retries=5,
                min_backoff=1000, max_backoff=60_000, time_limit=3_600_000)
def send_batch(campaign_id: int) -> None:
    """Claim a batch of the campaign's pending rows and send them over one SMTP connection."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.status != CampaignStatus.SENDING:
        return
    batch_id = f"{os.getpid()}-{secrets.token_hex(8)}"
    ids = ledger.claim(campaign_id, batch_id, current_app.config["SEND_BATCH_SIZE"])
    db.session.commit()
    if ids:
        _send_claimed(campaign, batch_id, ids)
    campaign_verbs.finish_if_done(db.session.get(Campaign, campaign_id))
    db.session.commit()


def _send_claimed(campaign: Campaign, batch_id: str, ids: list[int]) -> None:
    """Render, send and record the claimed rows; queue a later run for deferred ones."""
    rows = _load_rows(ids)
    store = LedgerStore(campaign, batch_id, {r.id: r.attempts for r in rows.values()})
    prepare = _preparer(campaign, rows, suppression.suppressed_among(r.email for r in
                                                                      rows.values()))
    cfg = current_app.config

    def limit(wanted: int) -> rate_limit.Grant:
        return rate_limit.reserve(campaign.from_email, wanted, campaign.rate_per_minute,
                                  campaign.rate_per_hour)

    with backend_for_app(current_app) as backend:
        send_all(backend, store, ids, prepare, window=cfg["SEND_WINDOW"], limit=limit,
                 retry_delay=cfg["SEND_RETRY_BACKOFF"])
    if store.next_retry is not None:
        jobs.enqueue("outbound.send_batch", campaign.id, queue="outbound",
                     delay_ms=int(store.next_retry * 1000) + 50)
        db.session.commit()


def _load_rows(ids: list[int]) -> dict[int, Any]:
    """Return the claimed rows with their subscriber's fields, by delivery id (one query)."""
    rows = db.session.execute(
        select(Delivery.id, Delivery.subscriber_id, Delivery.email, Delivery.message_id,
               Delivery.reply_token, Delivery.attempts, Subscriber.first_name,
               Subscriber.last_name, Subscriber.company, Subscriber.fields,
               Subscriber.consent_status)
        .outerjoin(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(Delivery.id.in_(ids)))
    return {row.id: row for row in rows}


def _preparer(campaign: Campaign, rows: dict[int, Any], suppressed: set[str]):  # noqa: ANN202
    """Return a function building one row's message, or deciding it is not to be sent."""
    composer: CampaignComposer = composition.composer_for(campaign)
    campaign_id = campaign.id

    def prepare(key: int) -> Outgoing:
        row = rows[key]
        reason = _skip_reason(row, suppressed)
        if reason:
            return Outgoing(key, decided=Result(key, Outcome.SKIPPED, reason))
        person = composition.Person(row.subscriber_id, row.email, row.first_name or "",
                                    row.last_name or "", row.company or "",
                                    row.fields or {})
        link = unsubscribe_url(row.subscriber_id, campaign_id)
        try:
            envelope = composer.envelope(
                Recipient(row.email, person.name, row.message_id, row.reply_token, link),
                composition.context_for(campaign, person, link))
        except (TemplateError, ValueError) as exc:
            return Outgoing(key, decided=Result(key, Outcome.FAILED, str(exc)))
        return Outgoing(key, envelope)

    return prepare


def _skip_reason(row: Any, suppressed: set[str]) -> str:
    """Return why a row must not be sent now, or an empty string."""
    if row.subscriber_id is None:
        return "the subscriber was deleted"
    if row.consent_status != ConsentStatus.SUBSCRIBED:
        return f"the subscriber is {row.consent_status}"
    if row.email in suppressed:
        return "the address is on the suppression list"
    return ""


@dramatiq.actor(actor_name="outbound.extend_ledger", queue_name="outbound", max_retries=5,
                min_backoff=1000, max_backoff=60_000)
def extend_ledger(campaign_id: int, after_subscriber_id: int) -> None:
    """Create the next keyset batch of a starting campaign's ledger rows."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.ledger_built_at is not None or campaign.status not in (
            CampaignStatus.SENDING, CampaignStatus.PAUSED):
        return
    campaign_verbs.extend_ledger(campaign, after_subscriber_id)
    db.session.commit()


@dramatiq.actor(actor_name="outbound.send_test", queue_name="outbound", max_retries=0)
def send_test(campaign_id: int, user_id: int, subscriber_id: int) -> None:
    """Send the campaign's current draft to a user, rendered for one person."""
    campaign, user = db.session.get(Campaign, campaign_id), db.session.get(User, user_id)
    if campaign is None or user is None:
        return
    person = composition.preview_person(campaign, subscriber_id)
    composer = composition.make_composer(campaign, test=True)
    link = unsubscribe_url(0, campaign.id)  # nobody: a click must not unsubscribe the person
    envelope = composer.envelope(
        Recipient(user.email, user.display_name, new_message_id(composition.message_domain()),
                  "test", link), composition.context_for(campaign, person, link))
    with backend_for_app(current_app) as backend:
        backend.send(envelope)


@dramatiq.actor(actor_name="campaigns.start_scheduled", queue_name="outbound", max_retries=3)
def start_scheduled(campaign_id: int) -> None:
    """Start a scheduled campaign when its time has come (the sweep does it too)."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.status != CampaignStatus.SCHEDULED:
        return
    if campaign.scheduled_at and campaign.scheduled_at > utcnow() + timedelta(seconds=1):
        return  # rescheduled later; its own message or the sweep will start it
    _start_or_return_to_draft(campaign)


def _start_or_return_to_draft(campaign: Campaign) -> None:
    """Start a scheduled campaign; if it can no longer send, return it to draft and say why."""
    try:
        campaign_verbs.start(campaign)
    except CampaignsError as exc:
        db.session.rollback()
        log.warning("scheduled campaign %s cannot start (%s); it is a draft again",
                    campaign.id, exc.message)
        campaign_verbs.unschedule(db.session.get(Campaign, campaign.id))
    db.session.commit()


@sweep
def resume_sending() -> None:
    """Settle rows left by dead workers, start due campaigns, re-queue work left behind."""
    stale = timedelta(seconds=current_app.config["SWEEP_STALE_AFTER"])
    ledger.free_stale_claims(stale)
    ledger.settle_abandoned_sending(stale)
    rate_limit.delete_expired()
    db.session.commit()
    due = db.session.scalars(select(Campaign).where(
        Campaign.status == CampaignStatus.SCHEDULED, Campaign.scheduled_at <= utcnow())).all()
    for campaign in due:
        _start_or_return_to_draft(campaign)
    sending = db.session.scalars(select(Campaign).where(
        Campaign.status == CampaignStatus.SENDING)).all()
    for campaign in sending:
        _nudge(campaign, utcnow() - stale)
        db.session.commit()


def _nudge(campaign: Campaign, cutoff: Any) -> None:
    """Re-queue a sending campaign's forgotten work and release its next wave when due."""
    if campaign.ledger_built_at is None and _last_row_at(campaign) < cutoff:
        jobs.enqueue("outbound.extend_ledger", campaign.id,
                     ledger.last_subscriber_id(campaign.id), queue="outbound")
    campaign_verbs.enqueue_batches(campaign, pacing.release_wave(campaign))
    forgotten = ledger.ready_rows(campaign.id, older_than=cutoff)
    if forgotten:
        batches = math.ceil(forgotten / current_app.config["SEND_BATCH_SIZE"])
        for _ in range(min(batches, MAX_REQUEUE_PER_SWEEP)):
            jobs.enqueue("outbound.send_batch", campaign.id, queue="outbound")
    campaign_verbs.finish_if_done(campaign)


def _last_row_at(campaign: Campaign) -> Any:
    """Return when the campaign's newest ledger row was created (or when it started)."""
    newest = db.session.scalar(select(func.max(Delivery.created_at))
                               .where(Delivery.campaign_id == campaign.id))
    return newest or campaign.started_at or utcnow()
