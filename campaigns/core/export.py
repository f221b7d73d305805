"""CSV export of subscribers, safe to open in a spreadsheet, streamed in batches."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import raiseload

from campaigns.db import db
from campaigns.models import Subscriber, Tag, subscriber_tags

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CORE_COLUMNS = ["email", "first_name", "last_name", "company", "tags", "consent_status",
                "consent_source", "created_at"]
BATCH = 1000


def neutralise(value: Any) -> str:
    """Return a cell as text that no spreadsheet evaluates (a leading quote disarms it)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_lines(rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """Yield CSV text line by line, every cell neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def subscriber_rows(conditions: Sequence[ColumnElement[bool]]) -> Iterator[list[Any]]:
    """Yield a header and one row per matching subscriber; custom fields get a column each."""
    keys = _field_keys(conditions)
    yield CORE_COLUMNS + [f"fields.{k}" if k in CORE_COLUMNS else k for k in keys]
    last_id = 0
    while True:
        batch = list(db.session.scalars(
            select(Subscriber).where(*conditions, Subscriber.id > last_id)
            .order_by(Subscriber.id).limit(BATCH)
            .options(raiseload(Subscriber.tags))))  # _tags_of reads them, in name order
        if not batch:
            return
        tags = _tags_of([s.id for s in batch])
        for s in batch:
            yield [s.email, s.first_name, s.last_name, s.company,
                   ", ".join(tags.get(s.id, [])), s.consent_status, s.consent_source,
                   s.created_at.isoformat(timespec="seconds")] + \
                  [(s.fields or {}).get(k, "") for k in keys]
        last_id = batch[-1].id
        db.session.expunge_all()  # keep memory flat over 100k people


def _field_keys(conditions: Sequence[ColumnElement[bool]]) -> list[str]:
    """Return every custom field key the matching subscribers use, sorted."""
    keys: set[str] = set()
    for fields in db.session.scalars(select(Subscriber.fields).where(*conditions)
                                     .execution_options(yield_per=5000)):
        keys.update(fields or {})
    return sorted(keys)


def _tags_of(ids: list[int]) -> dict[int, list[str]]:
    """Return tag names by subscriber id for a batch."""
    found: dict[int, list[str]] = {}
    rows = db.session.execute(select(subscriber_tags.c.subscriber_id, Tag.name)
                              .join(Tag, Tag.id == subscriber_tags.c.tag_id)
                              .where(subscriber_tags.c.subscriber_id.in_(ids))
                              .order_by(Tag.name))
    for subscriber_id, name in rows:
        found.setdefault(subscriber_id, []).append(name)
    return found
