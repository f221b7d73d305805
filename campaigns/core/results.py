"""Campaign results: the funnel from sent to outcomes, and replies over time."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select

from campaigns.db import db
from campaigns.models import (
    Delivery,
    DeliveryState,
    FollowUp,
    FollowUpStatus,
    InboundKind,
    InboundMessage,
)


@dataclass
class Funnel:
    """How far a campaign got: each stage counts people, not messages."""

    sent: int = 0
    bounced: int = 0
    human_replies: int = 0
    auto_replies: int = 0
    conversations: int = 0
    finished: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    replies_by_day: list[tuple[date, int]] = field(default_factory=list)

    @property
    def delivered(self) -> int:
        return max(self.sent - self.bounced, 0)

    @property
    def reply_rate(self) -> float:
        """Share of delivered people who replied as humans."""
        return self.human_replies / self.delivered if self.delivered else 0.0


def funnel(campaign_id: int, days: int = 14) -> Funnel:
    """Compute a campaign's funnel from the ledger, inbound messages and follow-ups."""
    result = Funnel()
    result.sent = _count(select(func.count()).where(
        Delivery.campaign_id == campaign_id, Delivery.state == DeliveryState.SENT))
    result.bounced = _count(select(func.count()).where(
        Delivery.campaign_id == campaign_id, Delivery.bounced_at.is_not(None)))
    per_kind = dict(db.session.execute(
        select(InboundMessage.kind, func.count(func.distinct(InboundMessage.delivery_id)))
        .join(Delivery, Delivery.id == InboundMessage.delivery_id)
        .where(Delivery.campaign_id == campaign_id).group_by(InboundMessage.kind)).all())
    result.human_replies = per_kind.get(InboundKind.HUMAN, 0)
    result.auto_replies = per_kind.get(InboundKind.AUTO_REPLY, 0)
    result.conversations = _count(select(func.count()).where(FollowUp.campaign_id == campaign_id))
    outcomes = db.session.execute(
        select(FollowUp.outcome, func.count()).where(
            FollowUp.campaign_id == campaign_id, FollowUp.status == FollowUpStatus.DONE)
        .group_by(FollowUp.outcome)).all()
    result.outcomes = Counter({outcome: n for outcome, n in outcomes})
    result.finished = sum(result.outcomes.values())
    result.replies_by_day = _replies_by_day(campaign_id, days)
    return result


def _count(query) -> int:  # noqa: ANN001 - a SELECT of one count
    return db.session.scalar(query) or 0


def _replies_by_day(campaign_id: int, days: int) -> list[tuple[date, int]]:
    """Count human replies per day over the last `days` days that had any sending."""
    day = func.date(InboundMessage.received_at)
    rows = db.session.execute(
        select(day, func.count())
        .join(Delivery, Delivery.id == InboundMessage.delivery_id)
        .where(Delivery.campaign_id == campaign_id, InboundMessage.kind == InboundKind.HUMAN)
        .group_by(day)).all()
    # SQLite returns the day as text, PostgreSQL as a date.
    per_day = Counter({d if isinstance(d, date) else date.fromisoformat(d): n for d, n in rows})
    if not per_day:
        return []
    end = max(per_day)
    start = max(min(per_day), end - timedelta(days=days - 1))
    return [(start + timedelta(days=n), per_day.get(start + timedelta(days=n), 0))
            for n in range((end - start).days + 1)]
