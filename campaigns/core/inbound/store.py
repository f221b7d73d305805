"""Keep every inbound message raw before anything tries to understand it (invariant 4).

``store_raw`` checks the size caps with byte scans only (CPython's header parser is
quadratic on hostile input), reads the Message-ID with one linear regex, and inserts with
``INSERT ... ON CONFLICT DO NOTHING`` on the unique ``dedupe_key``, so the same reply taken
in by IMAP, the webhook and LMTP at the same moment becomes one row on SQLite and
PostgreSQL alike. The processing job is published only after the commit.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from campaigns import jobs
from campaigns.db import db, utcnow
from campaigns.errors import InboundError, MessageTooLarge
from campaigns.models import InboundMessage, InboundStatus, ReceivedVia

PROCESS_ACTOR = "inbound.process"
_HEADER_END = re.compile(rb"\r?\n\r?\n")
# A message starts with a header field ("Name: value") or an mbox "From " line.
_FIRST_LINE = re.compile(rb"\A(?:From |[\x21-\x39\x3b-\x7e]{1,200}:)")
# One logical Message-ID field, continuation lines included; linear (each repeat eats a LF).
_MESSAGE_ID = re.compile(rb"^message-id[ \t]*:([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)", re.I | re.M)
_BRACKETED = re.compile(rb"<([^<>\s]{1,900})>")
MAX_KEY = 250  # longer Message-IDs are keyed by their hash (the column holds 300)


@dataclass(frozen=True)
class Stored:
    """The row a raw message is kept in, and whether this call created it."""

    id: int
    created: bool


def check_limits(raw: bytes, *, max_bytes: int | None = None,
                 max_header_bytes: int | None = None) -> int:
    """Raise MessageTooLarge or InboundError for raw bytes we refuse; return the header size."""
    max_bytes = max_bytes or current_app.config["INBOUND_MAX_BYTES"]
    max_header_bytes = max_header_bytes or current_app.config["INBOUND_MAX_HEADER_BYTES"]
    if not raw or not raw.strip():
        raise InboundError("The message is empty.")
    if len(raw) > max_bytes:
        raise MessageTooLarge(f"The message is {len(raw)} bytes; the limit is {max_bytes}.")
    end = _HEADER_END.search(raw, 0, max_header_bytes + 4)
    header_len = end.start() if end else len(raw)
    if header_len > max_header_bytes:
        raise MessageTooLarge(f"The header block is over the limit of {max_header_bytes} bytes.")
    if not _FIRST_LINE.match(raw):
        raise InboundError("This is not an email message: it does not start with a header.")
    return header_len


def message_id_of(header_block: bytes) -> str:
    """Return the Message-ID of a header block without brackets, or '' when it has none."""
    field = _MESSAGE_ID.search(header_block)
    if field is None:
        return ""
    found = _BRACKETED.search(field.group(1))
    value = found.group(1) if found else field.group(1).strip()
    return value.decode("utf-8", "replace").replace("\x00", "")[:900]


def dedupe_key(message_id: str, content_hash: str) -> str:
    """Return the key duplicates collide on: the Message-ID, else the content hash."""
    if not message_id:
        return f"sha256:{content_hash}"
    if len(message_id) > MAX_KEY:
        return "mid-sha256:" + hashlib.sha256(message_id.encode()).hexdigest()
    return f"<{message_id}>"


def store_raw(raw: bytes, via: ReceivedVia | str, *, envelope: dict[str, Any] | None = None,
              enqueue: bool = True) -> Stored:
    """Keep raw bytes once (deduplicated); enqueue processing after commit when new."""
    values = _row(bytes(raw), via, envelope)
    new_id = _insert_once(values)
    if new_id is None:
        key = values["dedupe_key"]
        return Stored(_ids_by_key([key])[key], created=False)
    if enqueue:
        jobs.enqueue(PROCESS_ACTOR, new_id, queue="inbound")
    return Stored(new_id, created=True)


def store_many(raws: list[bytes], via: ReceivedVia | str, *, enqueue: bool = True
               ) -> list[Stored | InboundError]:
    """Keep a batch of raw messages with one INSERT; refused ones come back as errors.

    Bulk intakes (IMAP, files) use this: one statement per batch, and one processing job
    for all the new messages of the batch.
    """
    results: list[Stored | InboundError | dict[str, Any]] = []
    for raw in raws:
        try:
            results.append(_row(bytes(raw), via, None))
        except InboundError as exc:
            results.append(exc)
    rows = [r for r in results if isinstance(r, dict)]
    created = _insert_many(rows)
    known = _ids_by_key([r["dedupe_key"] for r in rows if r["dedupe_key"] not in created])
    out: list[Stored | InboundError] = []
    seen: set[str] = set()
    for result in results:
        if isinstance(result, InboundError):
            out.append(result)
            continue
        key = result["dedupe_key"]
        out.append(Stored(created.get(key) or known[key], key in created and key not in seen))
        seen.add(key)  # a twin later in the same batch is a duplicate of the first
    new_ids = [s.id for s in out if isinstance(s, Stored) and s.created]
    if enqueue and new_ids:
        jobs.enqueue(PROCESS_ACTOR, *new_ids, queue="inbound")
    return out


def _row(raw: bytes, via: ReceivedVia | str, envelope: dict[str, Any] | None) -> dict[str, Any]:
    """Check one raw message and return the row that keeps it."""
    header_len = check_limits(raw)
    content_hash = hashlib.sha256(raw).hexdigest()
    message_id = message_id_of(raw[:header_len])
    return {"dedupe_key": dedupe_key(message_id, content_hash),
            "message_id": message_id[:300], "content_hash": content_hash, "raw": raw,
            "raw_path": "", "size": len(raw), "received_via": str(ReceivedVia(via)),
            "received_at": utcnow(), "status": str(InboundStatus.STORED),
            "details": {"envelope": envelope} if envelope else {}}


@cache
def _insert(dialect_name: str, *returning: str):  # noqa: ANN202
    """Return the INSERT … ON CONFLICT (dedupe_key) DO NOTHING … RETURNING of a database.

    Built once per database: making and cache-keying the statement for every message cost
    more than the INSERT itself (the values are bound parameters).
    """
    table = InboundMessage.__table__
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing(index_elements=["dedupe_key"]) \
        .returning(*(table.c[name] for name in returning))


def _insert_once(values: dict[str, Any]) -> int | None:
    """Insert a row unless its dedupe key exists; return the new id, or None on a duplicate."""
    return db.session.execute(_insert(db.engine.dialect.name, "id"), values).scalar()


def _insert_many(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Insert rows whose dedupe keys are new; return {dedupe_key: id} of those inserted."""
    if not rows:
        return {}
    result = db.session.execute(_insert(db.engine.dialect.name, "dedupe_key", "id"), rows)
    return dict(result.all())


def _ids_by_key(keys: list[str]) -> dict[str, int]:
    """Return the ids of the rows holding some dedupe keys."""
    if not keys:
        return {}
    return dict(db.session.execute(select(InboundMessage.dedupe_key, InboundMessage.id)
                                   .where(InboundMessage.dedupe_key.in_(set(keys)))).all())


def load_raw(message: InboundMessage) -> bytes:
    """Return the raw bytes of a stored message, or raise InboundError when they are gone."""
    raw = message.load_raw()
    if raw is None:
        raise InboundError(f"Inbound message {message.id} has no raw bytes.")
    return raw
