"""The send ledger: one delivery per (campaign, subscriber), the truth about every email.

Rows are created in keyset batches; workers claim a batch with a conditional update (``FOR
UPDATE SKIP LOCKED`` on PostgreSQL), mark a small window ``sending`` before the SMTP
transactions, and record outcomes. Every update is conditional on the state and the claim,
so a second worker, a double click or a redelivered message cannot send a row twice.
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from campaigns.core import audience
from campaigns.db import db, is_sqlite, utcnow
from campaigns.mail.sendloop import Outcome, Result
from campaigns.models import Campaign, Delivery, DeliveryState, Subscriber

S = DeliveryState
OPEN_STATES = (S.HELD, S.PENDING, S.SENDING)
_TABLE = Delivery.__table__
_STATE_OF = {Outcome.SENT: S.SENT, Outcome.FAILED: S.FAILED, Outcome.UNCERTAIN: S.UNCERTAIN,
             Outcome.SKIPPED: S.SKIPPED, Outcome.RETRY: S.PENDING}


def new_reply_token() -> str:
    """Return an unguessable reply token that survives lower-casing (some servers do that)."""
    return base64.b32encode(os.urandom(15)).decode("ascii").lower()


def add_rows(campaign: Campaign, after_subscriber_id: int, size: int, state: DeliveryState,
             domain: str) -> tuple[int, int]:
    """Insert the next keyset batch of the audience; return (rows selected, last subscriber id)."""
    query = (audience.eligible_subscribers(campaign.audience)
             .where(Subscriber.id > after_subscriber_id).order_by(Subscriber.id).limit(size)
             .with_only_columns(Subscriber.id, Subscriber.email))
    found = db.session.execute(query).all()
    if not found:
        return 0, after_subscriber_id
    now = utcnow()
    rows = [{"campaign_id": campaign.id, "subscriber_id": sid, "email": email, "state": state,
             "message_id": f"<{campaign.id}.{secrets.token_hex(10)}@{domain}>",
             "reply_token": new_reply_token(), "attempts": 0, "last_error": "",
             "created_at": now, "updated_at": now} for sid, email in found]
    insert = (sqlite.insert if is_sqlite() else postgresql.insert)(_TABLE)
    db.session.execute(insert.on_conflict_do_nothing(
        index_elements=["campaign_id", "subscriber_id"]), rows)
    return len(found), found[-1][0]


def last_subscriber_id(campaign_id: int) -> int:
    """Return the highest subscriber id in the campaign's ledger (where building resumes)."""
    return db.session.scalar(select(func.max(Delivery.subscriber_id))
                             .where(Delivery.campaign_id == campaign_id)) or 0


def claim(campaign_id: int, batch_id: str, limit: int) -> list[int]:
    """Claim up to ``limit`` ready pending rows for this batch; return their ids in order."""
    now = utcnow()
    ready = (select(Delivery.id)
             .where(Delivery.campaign_id == campaign_id, Delivery.state == S.PENDING,
                    Delivery.claimed_by.is_(None),
                    (Delivery.next_attempt_at.is_(None)) | (Delivery.next_attempt_at <= now))
             .order_by(Delivery.id).limit(limit).with_for_update(skip_locked=True))
    claimed = db.session.execute(
        update(_TABLE).where(_TABLE.c.id.in_(ready.scalar_subquery()),
                             _TABLE.c.state == S.PENDING, _TABLE.c.claimed_by.is_(None))
        .values(claimed_by=batch_id, claimed_at=now, updated_at=now)
        .returning(_TABLE.c.id)).scalars().all()
    return sorted(claimed)


def mark_sending(batch_id: str, ids: list[int]) -> set[int]:
    """Mark claimed rows ``sending`` (the caller commits before SMTP); return those marked."""
    if not ids:
        return set()
    now = utcnow()
    marked = db.session.execute(
        update(_TABLE).where(_TABLE.c.id.in_(ids), _TABLE.c.state == S.PENDING,
                             _TABLE.c.claimed_by == batch_id)
        .values(state=S.SENDING, claimed_at=now, updated_at=now,
                attempts=_TABLE.c.attempts + 1)
        .returning(_TABLE.c.id)).scalars().all()
    return set(marked)


def record(batch_id: str, results: list[Result], retry_at: dict[int, datetime]) -> None:
    """Record outcomes of this batch's rows (sent in one statement, the others per row)."""
    now = utcnow()
    sent = [r.key for r in results if r.outcome is Outcome.SENT]
    if sent:
        db.session.execute(
            update(_TABLE).where(_TABLE.c.id.in_(sent), _TABLE.c.state == S.SENDING,
                                 _TABLE.c.claimed_by == batch_id)
            .values(state=S.SENT, sent_at=now, updated_at=now, last_error=""))
    others = [_row_values(r, retry_at, batch_id) for r in results
              if r.outcome is not Outcome.SENT]
    if others:
        db.session.execute(
            update(_TABLE).where(_TABLE.c.id == bindparam("row_id"),
                                 _TABLE.c.state.in_([S.PENDING, S.SENDING]),
                                 _TABLE.c.claimed_by == batch_id)
            .values(state=bindparam("new_state"), last_error=bindparam("error"),
                    next_attempt_at=bindparam("retry_at"), claimed_by=bindparam("claim"),
                    updated_at=now), others)


def _row_values(result: Result, retry_at: dict[int, datetime], batch_id: str) -> dict:
    """Return the statement parameters recording one non-sent outcome.

    A deferred row goes back to pending, unclaimed, due at its retry time; one with no retry
    time left (attempts used up) is failed.
    """
    retrying = result.outcome is Outcome.RETRY and result.key in retry_at
    state = S.FAILED if result.outcome is Outcome.RETRY and not retrying \
        else _STATE_OF[result.outcome]
    return {"row_id": result.key, "new_state": state, "error": result.detail[:2000],
            "retry_at": retry_at.get(result.key) if retrying else None,
            "claim": None if retrying else batch_id}


def release(batch_id: str, ids: Iterable[int], retry_at: datetime | None = None) -> None:
    """Give back claimed rows this batch never marked, ready again at ``retry_at``."""
    ids = list(ids)
    if ids:
        db.session.execute(
            update(_TABLE).where(_TABLE.c.id.in_(ids), _TABLE.c.state == S.PENDING,
                                 _TABLE.c.claimed_by == batch_id)
            .values(claimed_by=None, claimed_at=None, next_attempt_at=retry_at,
                    updated_at=utcnow()))


def counts(campaign_id: int) -> dict[str, int]:
    """Return the number of the campaign's rows in each state (every state present)."""
    rows = db.session.execute(select(Delivery.state, func.count())
                              .where(Delivery.campaign_id == campaign_id)
                              .group_by(Delivery.state)).all()
    found = dict.fromkeys((s.value for s in DeliveryState), 0)
    found.update({str(state): count for state, count in rows})
    return found


def open_rows(campaign_id: int) -> int:
    """Return how many rows are still held, pending or sending."""
    return db.session.scalar(select(func.count()).select_from(Delivery).where(
        Delivery.campaign_id == campaign_id, Delivery.state.in_(OPEN_STATES))) or 0


def ready_rows(campaign_id: int, older_than: datetime | None = None) -> int:
    """Return how many pending rows are unclaimed and due (and untouched since a time)."""
    now = utcnow()
    query = select(func.count()).select_from(Delivery).where(
        Delivery.campaign_id == campaign_id, Delivery.state == S.PENDING,
        Delivery.claimed_by.is_(None),
        (Delivery.next_attempt_at.is_(None)) | (Delivery.next_attempt_at <= now))
    if older_than is not None:
        query = query.where(Delivery.updated_at < older_than)
    return db.session.scalar(query) or 0


def next_retry_at(campaign_id: int) -> datetime | None:
    """Return when the next deferred row of the campaign is due."""
    return db.session.scalar(select(func.min(Delivery.next_attempt_at)).where(
        Delivery.campaign_id == campaign_id, Delivery.state == S.PENDING,
        Delivery.claimed_by.is_(None), Delivery.next_attempt_at > utcnow()))


def sent_since(campaign_id: int, since: datetime) -> int:
    """Return how many of the campaign's emails went out since a time."""
    return db.session.scalar(select(func.count()).select_from(Delivery).where(
        Delivery.campaign_id == campaign_id, Delivery.sent_at >= since)) or 0


def free_stale_claims(stale_after: timedelta) -> int:
    """Unclaim pending rows a worker claimed and left (it died or lost its message)."""
    cutoff = utcnow() - stale_after
    return db.session.execute(
        update(_TABLE).where(_TABLE.c.state == S.PENDING, _TABLE.c.claimed_by.is_not(None),
                             _TABLE.c.claimed_at < cutoff)
        .values(claimed_by=None, claimed_at=None, updated_at=utcnow())).rowcount


def settle_abandoned_sending(stale_after: timedelta) -> int:
    """Mark ``uncertain`` rows left ``sending`` by a worker that stopped mid-window."""
    cutoff = utcnow() - stale_after
    return db.session.execute(
        update(_TABLE).where(_TABLE.c.state == S.SENDING, _TABLE.c.claimed_at < cutoff)
        .values(state=S.UNCERTAIN, updated_at=utcnow(),
                last_error="the worker stopped during the SMTP transaction: it may or may "
                           "not have been delivered, so it is not sent again")).rowcount


def reopen(campaign_id: int, states: Iterable[DeliveryState], to: DeliveryState) -> int:
    """Move the campaign's rows in some states to another (cancel, retry failed)."""
    values: dict = {"state": to, "updated_at": utcnow()}
    if to == S.PENDING:
        values.update(claimed_by=None, claimed_at=None, next_attempt_at=None, attempts=0)
    return db.session.execute(
        update(_TABLE).where(_TABLE.c.campaign_id == campaign_id,
                             _TABLE.c.state.in_(list(states))).values(**values)).rowcount
