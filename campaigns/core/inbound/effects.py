"""The rows a batch of filed messages adds or changes, written as a few statements.

Filing decides message by message; what it decides to write (thread messages, replied and
bounced marks on the ledger, soft-bounce counts, suppressions) is gathered here and sent by
:meth:`Effects.write` with one executemany per kind, so a batch of 50 messages costs a
handful of statements instead of one or two per message, and no ORM unit of work. Each
write keeps the rule of the per-message code it replaces: the first reply or bounce time
wins (``… IS NULL`` guards), the first reason suppresses an address (``ON CONFLICT DO
NOTHING``), and soft bounces are added in the database (``soft_bounces + n``) before the
counts are read back, so two workers counting at once never lose one.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, NamedTuple

from flask import current_app
from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from campaigns.db import db, utcnow
from campaigns.models import (
    Delivery,
    FollowUpMessage,
    Subscriber,
    Suppression,
    SuppressionReason,
    address_hash,
)

_deliveries = Delivery.__table__
_subscribers = Subscriber.__table__
_MARK = {column: (update(_deliveries)
                  .where(_deliveries.c.id == bindparam("b_id"), _deliveries.c[column].is_(None))
                  .values({column: bindparam("b_at")}))
         for column in ("replied_at", "bounced_at")}
_ADD_SOFT_BOUNCES = (update(_subscribers).where(_subscribers.c.id == bindparam("b_id"))
                     .values(soft_bounces=_subscribers.c.soft_bounces + bindparam("b_n")))


class SoftBounce(NamedTuple):
    """One soft bounce to count: whose, the address bounced, the report, its place in line."""

    subscriber_id: int
    email: str
    inbound_id: int
    order: int


class Effects:
    """What filing a batch writes, gathered so that each kind is one statement."""

    def __init__(self) -> None:
        self._clear()

    def _clear(self) -> None:
        """Start empty."""
        self.thread_messages: list[dict[str, Any]] = []
        self.marks: dict[str, dict[int, datetime]] = {"replied_at": {}, "bounced_at": {}}
        self.soft_bounces: list[SoftBounce] = []
        self.suppressions: dict[str, tuple[int, str, SuppressionReason, str]] = {}
        self._order = 0

    def add_thread_message(self, row: dict[str, Any]) -> None:
        """Add an inbound message to a thread (a followup_messages row)."""
        self.thread_messages.append(row)

    def mark(self, column: str, delivery_id: int, at: datetime) -> None:
        """Set replied_at or bounced_at of a delivery unless set (the first time wins)."""
        self.marks[column].setdefault(delivery_id, at)

    def count_soft_bounce(self, subscriber_id: int, email: str, inbound_id: int) -> None:
        """Add one soft bounce to a subscriber; the address is suppressed at the limit."""
        self.soft_bounces.append(SoftBounce(subscriber_id, email, inbound_id, self._next()))

    def suppress(self, email: str, reason: SuppressionReason, detail: str = "",
                 order: int | None = None) -> None:
        """Add an address to the suppression list; the earliest reason of the batch wins."""
        key, order = address_hash(email), self._next() if order is None else order
        if key not in self.suppressions or order < self.suppressions[key][0]:
            self.suppressions[key] = (order, email.strip().lower(), reason, detail)

    def write(self) -> None:
        """Send everything gathered to the database, one statement per kind, and forget it."""
        _insert_thread_messages(self.thread_messages)
        for column, marks in self.marks.items():
            if marks:
                db.session.execute(_MARK[column], [{"b_id": d, "b_at": at}
                                                   for d, at in marks.items()])
        self._write_soft_bounces()
        _insert_suppressions(self.suppressions)
        self._clear()

    def _next(self) -> int:
        """Return the next place in filing order."""
        self._order += 1
        return self._order

    def _write_soft_bounces(self) -> None:
        """Add the soft bounces, read the totals back, and suppress those at the limit."""
        if not self.soft_bounces:
            return
        added = Counter(b.subscriber_id for b in self.soft_bounces)
        db.session.execute(_ADD_SOFT_BOUNCES, [{"b_id": s, "b_n": n} for s, n in added.items()])
        totals = dict(db.session.execute(select(_subscribers.c.id, _subscribers.c.soft_bounces)
                                         .where(_subscribers.c.id.in_(added))).all())
        limit = current_app.config["SOFT_BOUNCE_LIMIT"]
        by_subscriber: dict[int, list[SoftBounce]] = defaultdict(list)
        for bounce in self.soft_bounces:
            by_subscriber[bounce.subscriber_id].append(bounce)
        for subscriber_id, bounces in by_subscriber.items():
            before = totals[subscriber_id] - len(bounces)
            for count, bounce in enumerate(bounces, start=before + 1):
                if count >= limit:  # the report that reached the limit is named
                    self.suppress(bounce.email, SuppressionReason.SOFT_BOUNCES,
                                  f"{count} soft bounces (last: inbound message "
                                  f"{bounce.inbound_id})", order=bounce.order)
                    break


@contextmanager
def gathered(effects: Effects | None = None) -> Iterator[Effects]:
    """Yield a batch's effects, or new ones that are written when the block ends."""
    if effects is not None:
        yield effects
        return
    effects = Effects()
    yield effects
    effects.write()


def _insert_thread_messages(rows: list[dict[str, Any]]) -> None:
    """Insert thread messages with one executemany."""
    if rows:
        db.session.execute(FollowUpMessage.__table__.insert(), rows)


def _insert_suppressions(found: dict[str, tuple[int, str, SuppressionReason, str]]) -> None:
    """Insert suppressions whose address is not suppressed yet (the first reason is kept)."""
    if not found:
        return
    now = utcnow()
    rows = [{"address_hash": key, "email": email, "reason": str(reason), "detail": detail,
             "created_at": now} for key, (_, email, reason, detail) in sorted(
                 found.items(), key=lambda item: item[1][0])]
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    db.session.execute(dialect.insert(Suppression.__table__).on_conflict_do_nothing(
        index_elements=["address_hash"]), rows)
