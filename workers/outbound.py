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
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import dramatiq
from flask import current_app
from sqlalchemy import Connection, Integer, func, select

from campaigns import jobs
from campaigns.core import campaigns as campaign_verbs
from campaigns.core import composition, ledger, pacing, rate_limit, suppression
from campaigns.core.unsubscribe_tokens import unsubscribe_url, url_maker
from campaigns.db import db, one_of, utcnow
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
STATUS_CHECK_EVERY = 1.0  # seconds between looks at the campaign's status (pause, cancel)
LEDGER_BUILD_SECONDS = 20.0  # one extend_ledger message builds for this long, then hands over


@dataclass(frozen=True)
class BatchCampaign:
    """What a batch needs of its campaign, read once: a commit expires ORM objects."""

    id: int
    started_at: Any
    from_name: str
    from_email: str
    rate_per_minute: int
    rate_per_hour: int

    @classmethod
    def load(cls, campaign_id: int) -> BatchCampaign | None:
        """Read these columns of a sending campaign (not its large template columns)."""
        row = db.session.execute(
            select(Campaign.id, Campaign.started_at, Campaign.from_name, Campaign.from_email,
                   Campaign.rate_per_minute, Campaign.rate_per_hour)
            .where(Campaign.id == campaign_id, Campaign.status == CampaignStatus.SENDING)
        ).first()
        return cls(*row) if row is not None else None


class LedgerStore:
    """The campaign ledger as the send loop's store, on an autocommit connection.

    Each window is one UPDATE that records the last window's sent rows and marks the next
    window ``sending``; in autocommit it is durable when it returns, before any SMTP.
    """

    def __init__(self, campaign_id: int, batch_id: str, attempts: dict[int, int],
                 connection: Connection) -> None:
        self.campaign_id, self.batch_id, self.attempts = campaign_id, batch_id, attempts
        self.connection = connection
        self.next_retry: float | None = None  # seconds until the earliest deferred row is due
        self._checked_at = time.monotonic()

    def begin_window(self, results: list[Result], keys: list[int]) -> set[int]:
        """Record the last window and durably mark the next one sending."""
        sent = self._record_others(results)
        return ledger.advance_window(self.batch_id, sent, keys, self.connection)

    def end(self, results: list[Result], unsent: list[int], retry_after: float) -> None:
        """Record the last window and give back the rows never marked."""
        ledger.advance_window(self.batch_id, self._record_others(results), [], self.connection)
        retry_at = utcnow() + timedelta(seconds=retry_after) if retry_after else None
        ledger.release(self.batch_id, unsent, retry_at, self.connection)
        if unsent and retry_after:
            self._note_retry(retry_after)

    def stopped(self) -> bool:
        """Tell whether the campaign was paused or cancelled (looked up once a second)."""
        if time.monotonic() - self._checked_at < STATUS_CHECK_EVERY:
            return False
        self._checked_at = time.monotonic()
        status = self.connection.scalar(select(Campaign.status)
                                        .where(Campaign.id == self.campaign_id))
        return status != CampaignStatus.SENDING

    def _record_others(self, results: list[Result]) -> list[int]:
        """Record every outcome but sent; return the sent ids (recorded with the window).

        A deferred row gets a retry time, or fails once its attempts are used up.
        """
        cfg, now, retry_at, sent = current_app.config, utcnow(), {}, []
        for result in results:
            if result.outcome is Outcome.SENT:
                sent.append(result.key)
                continue
            if result.outcome is not Outcome.RETRY:
                continue
            made = self.attempts.get(result.key, 0) + 1
            if made >= cfg["SEND_MAX_ATTEMPTS"]:
                result.detail = f"gave up after {made} attempts: {result.detail}"
                continue
            wait = cfg["SEND_RETRY_BACKOFF"] * 2 ** (made - 1)
            retry_at[result.key] = now + timedelta(seconds=wait)
            self._note_retry(wait)
        others = [r for r in results if r.outcome is not Outcome.SENT]
        if others:
            ledger.record(self.batch_id, others, retry_at, self.connection)
        return sent

    def _note_retry(self, seconds: float) -> None:
        self.next_retry = seconds if self.next_retry is None else min(self.next_retry, seconds)


@dramatiq.actor(actor_name="outbound.send_batch", queue_name="outbound", max_retries=5,
                min_backoff=1000, max_backoff=60_000, time_limit=3_600_000)
def send_batch(campaign_id: int, first_id: int = 0, last_id: int = 0) -> None:
    """Claim a batch of the campaign's pending rows and send them over one SMTP connection.

    ``first_id`` and ``last_id`` bound the ledger rows it was queued for (a hint for the
    claim, which looks at the whole campaign when they have nothing left).
    """
    campaign = BatchCampaign.load(campaign_id)
    if campaign is None:  # gone, paused, cancelled or finished: nothing to do
        return
    batch_id = f"{os.getpid()}-{secrets.token_hex(8)}"
    ids = ledger.claim(campaign_id, batch_id, current_app.config["SEND_BATCH_SIZE"],
                       (first_id, last_id))
    db.session.commit()
    if ids:
        _send_claimed(campaign, batch_id, ids)
    if len(ids) < current_app.config["SEND_BATCH_SIZE"]:  # near the end: is anything left?
        campaign_verbs.finish_if_done(db.session.get(Campaign, campaign_id))
        db.session.commit()


def _send_claimed(campaign: BatchCampaign, batch_id: str, ids: list[int]) -> None:
    """Render, send and record the claimed rows; queue a later run for deferred ones."""
    composer = composition.composer_for(campaign.id, campaign.started_at)
    rows = _load_rows(ids, with_fields="fields" in composer.templates.variables)
    prepare = _preparer(campaign, composer, rows,
                        suppression.suppressed_among(r.email for r in rows.values()))
    db.session.commit()
    cfg = current_app.config
    # The session's own connection, switched to autocommit for the loop: each window's
    # statement is its own transaction, and a worker thread holds one connection, not two.
    autocommit = db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})

    def limit(wanted: int) -> rate_limit.Grant:
        return rate_limit.reserve(campaign.from_email, wanted, campaign.rate_per_minute,
                                  campaign.rate_per_hour, autocommit)

    with backend_for_app(current_app) as backend:
        store = LedgerStore(campaign.id, batch_id, {r.id: r.attempts for r in rows.values()},
                            autocommit)
        send_all(backend, store, ids, prepare, window=cfg["SEND_WINDOW"], limit=limit,
                 retry_delay=cfg["SEND_RETRY_BACKOFF"])
    db.session.commit()  # hands the connection back, isolation level restored
    if store.next_retry is not None:
        jobs.enqueue("outbound.send_batch", campaign.id, queue="outbound",
                     delay_ms=int(store.next_retry * 1000) + 50)
        db.session.commit()


def _load_rows(ids: list[int], *, with_fields: bool) -> dict[int, Any]:
    """Return the claimed rows with their subscriber's fields, by delivery id (one query).

    Custom fields (JSON) are read only when the templates use them.
    """
    columns = [Delivery.id, Delivery.subscriber_id, Delivery.email, Delivery.message_id,
               Delivery.reply_token, Delivery.attempts, Subscriber.first_name,
               Subscriber.last_name, Subscriber.company, Subscriber.consent_status]
    if with_fields:
        columns.append(Subscriber.fields)
    rows = db.session.execute(select(*columns)
                              .outerjoin(Subscriber, Subscriber.id == Delivery.subscriber_id)
                              .where(one_of(Delivery.id, ids, Integer)))
    return {row.id: row for row in rows}


def _preparer(campaign: BatchCampaign, composer: CampaignComposer, rows: dict[int, Any],
              suppressed: set[str]):  # noqa: ANN202
    """Return a function building one row's message, or deciding it is not to be sent."""
    campaign_id, link_for = campaign.id, url_maker()
    # A Row raises (slowly) for a column it lacks: ask once whether fields were read.
    with_fields = "fields" in composer.templates.variables

    def prepare(key: int) -> Outgoing:
        row = rows[key]
        reason = _skip_reason(row, suppressed)
        if reason:
            return Outgoing(key, decided=Result(key, Outcome.SKIPPED, reason))
        person = composition.Person(row.subscriber_id, row.email, row.first_name or "",
                                    row.last_name or "", row.company or "",
                                    (row.fields if with_fields else None) or {})
        link = link_for(row.subscriber_id, campaign_id, row.email)
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


@dramatiq.actor(actor_name="outbound.extend_ledger", queue_name="default", max_retries=5,
                min_backoff=1000, max_backoff=60_000)
def extend_ledger(campaign_id: int, after_subscriber_id: int) -> None:
    """Build the rest of a starting campaign's ledger, batch after batch, each committed.

    Each batch's send messages go out with its commit, so sending keeps pace with building;
    after LEDGER_BUILD_SECONDS the job hands the rest to a new message.
    """
    deadline = time.monotonic() + LEDGER_BUILD_SECONDS
    while True:
        campaign = db.session.get(Campaign, campaign_id)
        if campaign is None or campaign.ledger_built_at is not None or campaign.status not in (
                CampaignStatus.SENDING, CampaignStatus.PAUSED):
            return
        _, after_subscriber_id, done = campaign_verbs.add_ledger_batch(campaign,
                                                                       after_subscriber_id)
        if not done and time.monotonic() > deadline:
            jobs.enqueue("outbound.extend_ledger", campaign_id, after_subscriber_id,
                         queue="default")
            done = True
        db.session.commit()
        if done:
            return


@dramatiq.actor(actor_name="outbound.send_test", queue_name="outbound", max_retries=0)
def send_test(campaign_id: int, user_id: int, subscriber_id: int) -> None:
    """Send the campaign's current draft to a user, rendered for one person."""
    campaign, user = db.session.get(Campaign, campaign_id), db.session.get(User, user_id)
    if campaign is None or user is None or suppression.is_suppressed(user.email):
        return  # gone, or suppressed since the test was asked for
    person = composition.preview_person(campaign, subscriber_id)
    composer = composition.make_composer(campaign, test=True)
    link = unsubscribe_url(0, campaign.id)  # nobody: a click must not unsubscribe the person
    envelope = composer.envelope(
        Recipient(user.email, user.display_name, new_message_id(composition.message_domain()),
                  "test", link), composition.context_for(campaign, person, link))
    with backend_for_app(current_app) as backend:
        backend.send(envelope)


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
                     ledger.last_subscriber_id(campaign.id), queue="default")
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
