"""Run the processing of stored messages with the transaction handling every caller needs."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy.exc import OperationalError

from campaigns.core.inbound.process import mark_needs_review, process_message, process_messages
from campaigns.db import db
from campaigns.models import InboundStatus

log = logging.getLogger(__name__)
BATCH = 50  # messages processed per transaction by bulk intakes (IMAP, files, the sweep)


def process_now(inbound_id: int) -> InboundStatus | None:
    """Process one stored message and commit; a failure marks it needs_review, never loses it."""
    try:
        status = process_message(inbound_id)
        db.session.commit()
        return status
    except OperationalError:
        db.session.rollback()
        raise  # the database is busy or away: the job is retried and the message stays stored
    except Exception as exc:  # noqa: BLE001 - recorded on the message, which keeps its raw bytes
        db.session.rollback()
        log.exception("inbound message %s could not be processed; kept for review", inbound_id)
        mark_needs_review(inbound_id, f"{type(exc).__name__}: {exc}")
        db.session.commit()
        return InboundStatus.NEEDS_REVIEW


def process_batch(inbound_ids: list[int], *, also_waiting: int = 0
                  ) -> dict[int, InboundStatus]:
    """Process messages in one transaction (with up to `also_waiting` other stored ones);
    if that fails, one by one, so only the bad one is kept for review."""
    try:
        statuses = process_messages(inbound_ids, also_waiting=also_waiting)
        db.session.commit()
        return statuses
    except OperationalError:
        db.session.rollback()
        raise
    except Exception:  # noqa: BLE001 - the messages are retried one by one just below
        db.session.rollback()
        log.warning("a batch of %d inbound messages failed; processing them one by one",
                    len(inbound_ids), exc_info=True)
    outcomes = {i: process_now(i) for i in inbound_ids}
    return {i: status for i, status in outcomes.items() if status is not None}


def process_all(ids: Iterable[int], batch: int = BATCH) -> dict[str, int]:
    """Process messages batch by batch (the CLI without a broker); count the outcomes."""
    ids = list(ids)
    counts: dict[str, int] = {}
    for start in range(0, len(ids), batch):
        chunk = ids[start:start + batch]
        statuses = process_batch(chunk)
        for inbound_id in chunk:
            key = str(statuses.get(inbound_id, "skipped"))
            counts[key] = counts.get(key, 0) + 1
    return counts
