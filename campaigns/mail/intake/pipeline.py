"""Run the processing of stored messages with the transaction handling every caller needs."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy.exc import OperationalError

from campaigns.core.inbound.process import mark_needs_review, process_message
from campaigns.db import db
from campaigns.models import InboundStatus

log = logging.getLogger(__name__)


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


def process_all(ids: Iterable[int]) -> dict[str, int]:
    """Process messages one by one (the CLI without a broker); count the outcomes."""
    counts: dict[str, int] = {}
    for inbound_id in ids:
        status = process_now(inbound_id)
        key = str(status) if status else "skipped"
        counts[key] = counts.get(key, 0) + 1
    return counts
