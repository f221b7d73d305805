"""Pacing by follow-up capacity: a daily cap of new conversations sends a campaign in waves.

Each wave is the cap divided by the reply rate seen so far (20 % assumed until replies come
in, so a first wave is five times the cap), at most one wave a day, and no wave starts while
the inbox already holds as many open follow-ups as the cap: answer them first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from campaigns.db import db, utcnow
from campaigns.models import (
    Campaign,
    Delivery,
    DeliveryState,
    FollowUp,
    FollowUpStatus,
)

PRIOR_REPLIES, PRIOR_SENT = 1, 5  # a 20 % reply rate until the campaign's own replies count
MIN_REPLY_RATE = 0.02  # so a wave is at most 50 times the cap
WAVE_INTERVAL = timedelta(days=1)


@dataclass(frozen=True)
class PacingStatus:
    """Where a paced campaign stands, for the campaign page."""

    cap: int
    wave_size: int
    held: int
    open_followups: int
    next_wave_at: datetime | None

    @property
    def inbox_full(self) -> bool:
        return self.open_followups >= self.cap


def initial_state(campaign: Campaign) -> DeliveryState:
    """Return the state new ledger rows start in: held for a paced campaign."""
    return DeliveryState.HELD if campaign.daily_conversation_cap > 0 else DeliveryState.PENDING


def reply_rate(campaign_id: int) -> float:
    """Return the campaign's reply rate so far, smoothed towards 20 % while it is small."""
    sent, replied = db.session.execute(
        select(func.count(Delivery.sent_at), func.count(Delivery.replied_at))
        .where(Delivery.campaign_id == campaign_id)).one()
    return max(MIN_REPLY_RATE, min(1.0, (replied + PRIOR_REPLIES) / (sent + PRIOR_SENT)))


def wave_size(campaign: Campaign) -> int:
    """Return how many emails the next wave sends."""
    return math.ceil(campaign.daily_conversation_cap / reply_rate(campaign.id))


def open_followups() -> int:
    """Return the number of open follow-ups in the inbox (the capacity in use)."""
    return db.session.scalar(select(func.count()).select_from(FollowUp)
                             .where(FollowUp.status == FollowUpStatus.OPEN)) or 0


def release_wave(campaign: Campaign) -> int:
    """Release the next wave of held rows if it is due and the inbox has room; return it."""
    cap = campaign.daily_conversation_cap
    if cap <= 0 or not _due(campaign) or open_followups() >= cap:
        return 0
    wave = (select(Delivery.id).where(Delivery.campaign_id == campaign.id,
                                      Delivery.state == DeliveryState.HELD)
            .order_by(Delivery.id).limit(wave_size(campaign)).with_for_update(skip_locked=True)
            .cte("wave").prefix_with("MATERIALIZED"))  # run once: LIMIT must hold
    table = Delivery.__table__
    released = len(db.session.execute(  # counted from RETURNING: sqlite3 has no rowcount
        update(table).where(table.c.id == wave.c.id)  # for a statement starting with WITH
        .values(state=DeliveryState.PENDING, updated_at=utcnow())
        .returning(table.c.id)).all())
    if released:
        campaign.last_wave_at = utcnow()
        db.session.flush()
    return released


def _due(campaign: Campaign) -> bool:
    """Tell whether a day has passed since the last wave."""
    return campaign.last_wave_at is None or utcnow() - campaign.last_wave_at >= WAVE_INTERVAL


def status(campaign: Campaign) -> PacingStatus | None:
    """Return the pacing status of a paced campaign (None when it is not paced)."""
    if campaign.daily_conversation_cap <= 0:
        return None
    held = db.session.scalar(select(func.count()).select_from(Delivery).where(
        Delivery.campaign_id == campaign.id, Delivery.state == DeliveryState.HELD)) or 0
    next_at = campaign.last_wave_at + WAVE_INTERVAL if campaign.last_wave_at else None
    return PacingStatus(campaign.daily_conversation_cap, wave_size(campaign), held,
                        open_followups(), next_at if held else None)
