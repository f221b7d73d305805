"""Live progress of a campaign (counts, rate, ETA) and its per-person ledger, filtered."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from campaigns.core import ledger, pacing
from campaigns.db import db, utcnow
from campaigns.errors import ValidationError
from campaigns.models import Campaign, CampaignStatus, Delivery, DeliveryState

MAX_SAMPLE_AGE = 120  # seconds: an older sample says little about the current rate


@dataclass(frozen=True)
class Progress:
    """Where a campaign's sending stands."""

    status: str
    counts: dict[str, int]
    rate_per_second: float
    eta_seconds: int | None
    pacing: pacing.PacingStatus | None
    sampled_at: float  # the time of these counts, for the next look's rate

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def remaining(self) -> int:
        return sum(self.counts[s] for s in ("pending", "sending", "held"))

    @property
    def percent_done(self) -> int:
        return 100 if not self.total else int(100 * (self.total - self.remaining) / self.total)

    @property
    def live(self) -> bool:
        return self.status in (CampaignStatus.SENDING, CampaignStatus.SCHEDULED)

    def as_dict(self) -> dict[str, Any]:
        """Return the progress as the API shows it."""
        return {"status": str(self.status), "deliveries": self.counts, "total": self.total,
                "remaining": self.remaining, "rate_per_second": round(self.rate_per_second, 1),
                "eta_seconds": self.eta_seconds}


def progress(campaign: Campaign, previous: tuple[int, float] | None = None) -> Progress:
    """Return the campaign's counts by state, its sending rate and an ETA.

    The rate is measured between the previous look (sent count and time, as the UI or CLI
    last saw them) and now; without one, it is the average since sending started. Either way
    it costs no more than the counts.
    """
    counts, now = ledger.counts(campaign.id), time.time()
    rate = _rate(campaign, counts["sent"], now, previous)
    active = counts["pending"] + counts["sending"]
    eta = int(active / rate) if rate and campaign.status == CampaignStatus.SENDING else None
    return Progress(campaign.status, counts, rate, eta, pacing.status(campaign), now)


def _rate(campaign: Campaign, sent: int, now: float, previous: tuple[int, float] | None
          ) -> float:
    """Return emails sent per second, between two looks or on average."""
    if previous is not None:
        sent_before, at = previous
        if 0 < now - at <= MAX_SAMPLE_AGE and 0 <= sent_before <= sent:
            return (sent - sent_before) / (now - at)
    if campaign.status != CampaignStatus.SENDING or campaign.started_at is None:
        return 0.0
    elapsed = (utcnow() - campaign.started_at).total_seconds()
    return sent / elapsed if elapsed > 0 else 0.0


def deliveries(campaign_id: int, *, state: str | None = None, query: str | None = None,
               after: int = 0, limit: int = 50) -> tuple[list[Delivery], int | None]:
    """Return a page of the ledger (keyset by id) and the id to continue after, if more."""
    statement = select(Delivery).where(Delivery.campaign_id == campaign_id,
                                       Delivery.id > after)
    if state:
        if state not in {s.value for s in DeliveryState}:
            raise ValidationError(f"Unknown delivery state {state!r}.")
        statement = statement.where(Delivery.state == state)
    if query:
        statement = statement.where(Delivery.email.contains(query.strip().lower(),
                                                            autoescape=True))
    rows = list(db.session.scalars(statement.order_by(Delivery.id).limit(limit + 1)))
    more = len(rows) > limit
    return rows[:limit], rows[limit - 1].id if more else None


def counts_by_campaign(campaign_ids: list[int]) -> dict[int, dict[str, int]]:
    """Return state counts for several campaigns in one query (the campaign list)."""
    found: dict[int, dict[str, int]] = {cid: {} for cid in campaign_ids}
    if not campaign_ids:
        return found
    rows = db.session.execute(select(Delivery.campaign_id, Delivery.state, func.count())
                              .where(Delivery.campaign_id.in_(campaign_ids))
                              .group_by(Delivery.campaign_id, Delivery.state))
    for campaign_id, state, count in rows:
        found[campaign_id][str(state)] = count
    return found


def delivery_dict(row: Delivery) -> dict[str, Any]:
    """Return one ledger row as the API shows it."""
    def stamp(value: Any) -> str | None:
        return value.isoformat() + "Z" if value else None

    return {"id": row.id, "subscriber_id": row.subscriber_id, "email": row.email,
            "state": str(row.state), "message_id": row.message_id, "attempts": row.attempts,
            "last_error": row.last_error, "sent_at": stamp(row.sent_at),
            "next_attempt_at": stamp(row.next_attempt_at), "bounced_at": stamp(row.bounced_at),
            "replied_at": stamp(row.replied_at)}
