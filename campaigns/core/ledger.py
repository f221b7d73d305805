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
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Connection,
    Dialect,
    Integer,
    any_,
    bindparam,
    case,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from campaigns.core import audience
from campaigns.db import db, is_sqlite, utcnow
from campaigns.mail.sendloop import Outcome, Result
from campaigns.models import Campaign, Delivery, DeliveryState, Subscriber

S = DeliveryState
OPEN_STATES = (S.HELD, S.PENDING, S.SENDING)
_TABLE = Delivery.__table__
Executor = Connection | Session  # the session, or a worker's autocommit connection
_STATE_OF = {Outcome.SENT: S.SENT, Outcome.FAILED: S.FAILED, Outcome.UNCERTAIN: S.UNCERTAIN,
             Outcome.SKIPPED: S.SKIPPED, Outcome.RETRY: S.PENDING}


def new_reply_token() -> str:
    """Return an unguessable reply token that survives lower-casing (some servers do that)."""
    return base64.b32encode(os.urandom(15)).decode("ascii").lower()


def add_rows(campaign: Campaign, after_subscriber_id: int, size: int, state: DeliveryState,
             domain: str) -> tuple[int, int, tuple[int, int]]:
    """Insert the next keyset batch of the audience.

    Return the rows selected, the last subscriber id and the new deliveries' first and last
    ids ((0, 0) if none).
    """
    query = (audience.eligible_subscribers(campaign.audience)
             .where(Subscriber.id > after_subscriber_id).order_by(Subscriber.id).limit(size)
             .with_only_columns(Subscriber.id, Subscriber.email))
    found = db.session.execute(query).all()
    if not found:
        return 0, after_subscriber_id, (0, 0)
    now = utcnow()
    columns = {"subscriber_id": [sid for sid, _ in found], "email": [e for _, e in found],
               "message_id": [f"<{campaign.id}.{secrets.token_hex(10)}@{domain}>"
                              for _ in found],
               "reply_token": [new_reply_token() for _ in found]}
    insert = _insert_sqlite if is_sqlite() else _insert_postgresql
    new_ids = insert(campaign.id, state, now, columns)
    return len(found), found[-1][0], (min(new_ids, default=0), max(new_ids, default=0))


_UNNEST_INSERT = text("""
    INSERT INTO deliveries (campaign_id, subscriber_id, email, state, message_id, reply_token,
                            attempts, last_error, created_at, updated_at)
    SELECT :campaign_id, t.subscriber_id, t.email, :state, t.message_id, t.reply_token, 0, '',
           :now, :now
    FROM unnest(CAST(:subscriber_id AS integer[]), CAST(:email AS varchar[]),
                CAST(:message_id AS varchar[]), CAST(:reply_token AS varchar[]))
         AS t(subscriber_id, email, message_id, reply_token)
    ON CONFLICT (campaign_id, subscriber_id) DO NOTHING
    RETURNING id""")


def _insert_postgresql(campaign_id: int, state: DeliveryState, now: datetime,
                       columns: dict[str, list]) -> list[int]:
    """Insert a batch as four arrays: one short statement, whatever the batch size.

    A multi-row VALUES of thousands of parameters costs more to build and for psycopg to
    parse than the insert itself.
    """
    return list(db.session.scalars(_UNNEST_INSERT, {"campaign_id": campaign_id,
                                                    "state": str(state), "now": now,
                                                    **columns}))


def _insert_sqlite(campaign_id: int, state: DeliveryState, now: datetime,
                   columns: dict[str, list]) -> list[int]:
    """Insert a batch row by row (SQLite has no arrays)."""
    rows = [{"campaign_id": campaign_id, "subscriber_id": sid, "email": email, "state": state,
             "message_id": mid, "reply_token": token, "attempts": 0, "last_error": "",
             "created_at": now, "updated_at": now}
            for sid, email, mid, token in zip(*columns.values(), strict=True)]
    return list(db.session.scalars(sqlite.insert(_TABLE).on_conflict_do_nothing(
        index_elements=["campaign_id", "subscriber_id"]).returning(_TABLE.c.id), rows))


def last_subscriber_id(campaign_id: int) -> int:
    """Return the highest subscriber id in the campaign's ledger (where building resumes)."""
    return db.session.scalar(select(func.max(Delivery.subscriber_id))
                             .where(Delivery.campaign_id == campaign_id)) or 0


def claim(campaign_id: int, batch_id: str, limit: int,
          id_range: tuple[int, int] = (0, 0)) -> list[int]:
    """Claim up to ``limit`` ready pending rows for this batch; return their ids in order.

    ``id_range`` (the ids of the ledger batch the message was queued for) only narrows the
    search: the state is not indexed (so updates stay HOT), and a search over the whole
    campaign would read every row sent before; when the range has nothing left, the claim
    looks at the whole campaign (rows retried or given back).
    """
    claimed = _claim(campaign_id, batch_id, limit, id_range)
    if not claimed and id_range != (0, 0):
        claimed = _claim(campaign_id, batch_id, limit, (0, 0))
    return claimed


def _claim(campaign_id: int, batch_id: str, limit: int, id_range: tuple[int, int]
           ) -> list[int]:
    """Claim with one conditional UPDATE over a SKIP LOCKED selection.

    The selection is a materialised CTE: as a subquery in ``IN (...)`` PostgreSQL may run it
    again for each row it updates, and the LIMIT then no longer holds.
    """
    now = utcnow()
    ready = (select(Delivery.id)
             .where(Delivery.campaign_id == campaign_id, Delivery.state == S.PENDING,
                    Delivery.claimed_by.is_(None),
                    (Delivery.next_attempt_at.is_(None)) | (Delivery.next_attempt_at <= now))
             .order_by(Delivery.id).limit(limit).with_for_update(skip_locked=True))
    if id_range != (0, 0):
        ready = ready.where(Delivery.id.between(*id_range))
    ready = ready.cte("ready").prefix_with("MATERIALIZED")
    claimed = db.session.execute(
        update(_TABLE).where(_TABLE.c.id == ready.c.id, _TABLE.c.state == S.PENDING,
                             _TABLE.c.claimed_by.is_(None))
        .values(claimed_by=batch_id, claimed_at=now, updated_at=now)
        .returning(_TABLE.c.id)).scalars().all()
    return sorted(claimed)


def _ids(name: str, dialect: str) -> Any:
    """Condition "id is one of the ids in parameter ``name``" (an array on PostgreSQL)."""
    if dialect == "postgresql":
        return _TABLE.c.id == any_(bindparam(name, type_=ARRAY(Integer)))
    return _TABLE.c.id.in_(bindparam(name, expanding=True))


def _window_statement(dialect: str) -> Any:
    """Return the window statement for a dialect."""
    was_sending = _TABLE.c.state == S.SENDING
    return (
        update(_TABLE)
        .where(_TABLE.c.claimed_by == bindparam("batch"),
               (was_sending & _ids("sent", dialect))
               | ((_TABLE.c.state == S.PENDING) & _ids("next", dialect)))
        .values(state=case((was_sending, S.SENT.value), else_=S.SENDING.value),
                sent_at=case((was_sending, bindparam("now")), else_=_TABLE.c.sent_at),
                last_error=case((was_sending, ""), else_=_TABLE.c.last_error),
                attempts=case((_TABLE.c.state == S.PENDING, _TABLE.c.attempts + 1),
                              else_=_TABLE.c.attempts),
                claimed_at=bindparam("now"), updated_at=bindparam("now"))
        .returning(_TABLE.c.id, _TABLE.c.state))


# One statement per window: the last window's sent rows become ``sent`` and the next
# window's claimed rows become ``sending``. With an autocommit connection it is also the
# window's whole transaction: one round trip to the database per window.
_WINDOW = {dialect: _window_statement(dialect) for dialect in ("postgresql", "sqlite")}
_OUTCOME = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("row_id"),
           (_TABLE.c.state == S.PENDING) | (_TABLE.c.state == S.SENDING),  # executemany: no IN
           _TABLE.c.claimed_by == bindparam("batch"))
    .values(state=bindparam("new_state"), last_error=bindparam("error"),
            next_attempt_at=bindparam("retry_at"), claimed_by=bindparam("claim"),
            updated_at=bindparam("now")))


def advance_window(batch_id: str, sent: list[int], next_ids: list[int],
                   executor: Executor | None = None) -> set[int]:
    """Record sent rows and mark the next window ``sending``; return the ids now sending.

    Only rows still claimed by this batch change, each from the state it must be in, so a
    row another worker took (or the sweep settled) is left alone and not sent here.
    """
    if not sent and not next_ids:
        return set()
    executor = executor or db.session
    params = {"batch": batch_id, "sent": sent, "next": next_ids, "now": utcnow()}
    if isinstance(executor, Connection) and executor.dialect.name == "postgresql":
        rows = _run_window(executor, params)
    else:
        rows = executor.execute(_WINDOW["sqlite" if is_sqlite() else "postgresql"], params)
    return {row_id for row_id, state in rows if state == S.SENDING}


def _run_window(connection: Connection, params: dict[str, Any]) -> Any:
    """Run the window statement on PostgreSQL, compiled once, as its SQL text.

    The hot path of sending. On an autocommit connection (the send loop's) the statement is
    its own transaction, so the driver's cursor runs it: SQLAlchemy's execution and result
    layers cost more client CPU than the statement (~250 µs a window). In a transaction,
    SQLAlchemy runs it, as it must know of the transaction.
    """
    sql, constants = _compiled_window(connection.dialect)
    driver = connection.connection.driver_connection
    if getattr(driver, "autocommit", False):
        with driver.cursor() as cursor:
            cursor.execute(sql, {**constants, **params})
            return cursor.fetchall()
    return connection.exec_driver_sql(sql, {**constants, **params})


@lru_cache(maxsize=4)
def _compiled_window(dialect: Dialect) -> tuple[str, dict[str, Any]]:
    """Return the PostgreSQL window statement as SQL text and the values of its constants.

    The constants are plain values (a state's string, not the enum) for the driver.
    """
    compiled = _WINDOW["postgresql"].compile(dialect=dialect)
    return compiled.string, {k: getattr(v, "value", v) for k, v in compiled.params.items()
                             if v is not None}


def mark_sending(batch_id: str, ids: list[int], executor: Executor | None = None) -> set[int]:
    """Mark claimed rows ``sending`` (committed before their SMTP transactions)."""
    return advance_window(batch_id, [], ids, executor)


def record(batch_id: str, results: list[Result], retry_at: dict[int, datetime],
           executor: Executor | None = None) -> None:
    """Record outcomes of this batch's rows (sent in one statement, the others per row)."""
    executor = executor or db.session
    sent = [r.key for r in results if r.outcome is Outcome.SENT]
    if sent:
        advance_window(batch_id, sent, [], executor)
    now = utcnow()
    others = [_row_values(r, retry_at, batch_id, now) for r in results
              if r.outcome is not Outcome.SENT]
    if others:
        executor.execute(_OUTCOME, others)


def _row_values(result: Result, retry_at: dict[int, datetime], batch_id: str,
                now: datetime) -> dict:
    """Return the statement parameters recording one non-sent outcome.

    A deferred row goes back to pending, unclaimed, due at its retry time; one with no retry
    time left (attempts used up) is failed.
    """
    retrying = result.outcome is Outcome.RETRY and result.key in retry_at
    state = S.FAILED if result.outcome is Outcome.RETRY and not retrying \
        else _STATE_OF[result.outcome]
    return {"row_id": result.key, "new_state": state, "error": result.detail[:2000],
            "retry_at": retry_at.get(result.key) if retrying else None,
            "claim": None if retrying else batch_id, "batch": batch_id, "now": now}


def release(batch_id: str, ids: Iterable[int], retry_at: datetime | None = None,
            executor: Executor | None = None) -> None:
    """Give back claimed rows this batch never marked, ready again at ``retry_at``."""
    ids = list(ids)
    if ids:
        (executor or db.session).execute(
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


def has_open_rows(campaign_id: int) -> bool:
    """Tell whether any row is still held, pending or sending."""
    return db.session.scalar(select(Delivery.id).where(
        Delivery.campaign_id == campaign_id, Delivery.state.in_(OPEN_STATES)).limit(1)) is not None


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
