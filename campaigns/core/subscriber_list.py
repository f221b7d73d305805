"""The subscriber list: search, filters, sorting and keyset paging that stay fast at 100k.

Paging walks an index (created_at, email or last/first name, then id) from a cursor instead
of counting rows with OFFSET, so page 2,000 costs what page 1 costs.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select, tuple_

from campaigns.core.audience import suppressed
from campaigns.core.segments import get_segment, has_tag, like_escape, rules_condition
from campaigns.db import db
from campaigns.models import ConsentStatus, Subscriber

SORTS: dict[str, tuple[str, tuple[Any, ...]]] = {
    "newest": ("desc", (Subscriber.created_at, Subscriber.id)),
    "oldest": ("asc", (Subscriber.created_at, Subscriber.id)),
    "email": ("asc", (Subscriber.email, Subscriber.id)),
    "name": ("asc", (Subscriber.last_name, Subscriber.first_name, Subscriber.id)),
}
SORT_LABELS = {"newest": "Newest first", "oldest": "Oldest first", "email": "Email",
               "name": "Last name"}
STATUSES = ("subscribed", "pending", "unsubscribed", "suppressed")


@dataclass(frozen=True)
class ListFilter:
    """What the list shows: a search, a tag, a consent status, a segment."""

    q: str = ""
    tag: str = ""
    status: str = ""
    segment_id: int | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        """Return the SQL conditions of this filter."""
        found = [_matches_word(word) for word in self.q.split()[:8]]
        if self.tag:
            found.append(has_tag(self.tag.strip()))
        if self.status == "suppressed":
            found.append(suppressed(Subscriber.email))
        elif self.status in STATUSES:
            found.append(Subscriber.consent_status == ConsentStatus(self.status))
        if self.segment_id:
            found.append(rules_condition(get_segment(self.segment_id).rules))
        return found

    @property
    def active(self) -> bool:
        return bool(self.q or self.tag or self.status or self.segment_id)


def _matches_word(word: str) -> ColumnElement[bool]:
    """One search word matches the address, a name or the company (any case)."""
    pattern = "%" + like_escape(word) + "%"
    # SQLite's LIKE ignores ASCII case already; ILIKE there wraps both sides in lower(),
    # which made a search of 100k people three times slower.
    sqlite = db.session.get_bind().dialect.name == "sqlite"
    return or_(*((column.like if sqlite else column.ilike)(pattern, escape="\\")
                 for column in (Subscriber.email, Subscriber.first_name, Subscriber.last_name,
                                Subscriber.company)))


def filtered(list_filter: ListFilter) -> Select:
    """Return a SELECT of the subscribers the filter keeps (unordered)."""
    return select(Subscriber).where(*list_filter.conditions())


def matching_ids(list_filter: ListFilter) -> list[int]:
    """Return the ids of every subscriber the filter keeps (for bulk actions)."""
    return list(db.session.scalars(select(Subscriber.id).where(*list_filter.conditions())))


def count(list_filter: ListFilter) -> int:
    """Return how many subscribers the filter keeps."""
    return db.session.scalar(select(func.count(Subscriber.id))
                             .where(*list_filter.conditions())) or 0


@dataclass
class Page:
    """One page of the list and the cursors around it."""

    subscribers: list[Subscriber]
    next_cursor: str | None
    prev_cursor: str | None


def page(list_filter: ListFilter, sort: str = "newest", *, after: str | None = None,
         before: str | None = None, limit: int = 50) -> Page:
    """Return the page after (or before) a cursor, in the chosen order."""
    direction, keys = SORTS.get(sort, SORTS["newest"])
    backwards = bool(before) and not after
    cursor = decode_cursor(before if backwards else after, keys)
    query = filtered(list_filter)
    ascending = (direction == "asc") != backwards
    if cursor is not None:
        row, values = tuple_(*keys), tuple_(*cursor)
        query = query.where(row > values if ascending else row < values)
    query = query.order_by(*(k.asc() if ascending else k.desc() for k in keys))
    rows = list(db.session.scalars(query.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
        return Page(rows, _cursor(rows[-1], keys) if rows else None,
                    _cursor(rows[0], keys) if more and rows else None)
    return Page(rows, _cursor(rows[-1], keys) if more else None,
                _cursor(rows[0], keys) if cursor is not None and rows else None)


def _cursor(subscriber: Subscriber, keys: tuple[Any, ...]) -> str:
    """Encode a row's sort key as an opaque cursor."""
    values = [_plain(getattr(subscriber, key.key)) for key in keys]
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def decode_cursor(cursor: str | None, keys: tuple[Any, ...]) -> list[Any] | None:
    """Decode a cursor made for these keys; a damaged one means "from the start"."""
    if not cursor:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(keys):
            return None
        return [datetime.fromisoformat(v) if k.key == "created_at" else v
                for k, v in zip(keys, values, strict=True)]
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        return None
