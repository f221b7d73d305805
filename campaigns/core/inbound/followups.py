"""Put a human reply into the one follow-up of its subscriber and campaign.

Every step is idempotent so that re-processing a message never duplicates anything: the
follow-up is found or created with ``INSERT ... ON CONFLICT DO NOTHING`` on its unique
(subscriber, campaign) pair (so two workers filing the first two replies at once open one),
and a message is appended once per inbound message. ``Threads`` loads the follow-ups of a
whole batch of messages with one query.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from campaigns.core.inbound.effects import Effects, gathered
from campaigns.db import db, utcnow
from campaigns.models import (
    Direction,
    FollowUp,
    FollowUpMessage,
    FollowUpStatus,
    InboundMessage,
)

# Built once: making and cache-keying a statement costs more than running it for one message.
_FOLLOWUPS_OF = (select(FollowUp)
                 .where(FollowUp.subscriber_id.in_(bindparam("ids", expanding=True)))
                 .order_by(FollowUp.id))


class Threads:
    """The follow-ups of some subscribers, loaded with one query; opens missing ones."""

    def __init__(self, subscriber_ids: Iterable[int]) -> None:
        self.by_pair: dict[tuple[int, int | None], FollowUp] = {}
        self.by_subscriber: dict[int, list[FollowUp]] = defaultdict(list)
        self._load(set(subscriber_ids))

    def _load(self, subscriber_ids: set[int]) -> None:
        """Read the follow-ups of these subscribers into the maps."""
        if not subscriber_ids:
            return
        for followup in db.session.scalars(_FOLLOWUPS_OF, {"ids": list(subscriber_ids)}):
            pair = (followup.subscriber_id, followup.campaign_id)
            if pair not in self.by_pair:
                self.by_pair[pair] = followup
                self.by_subscriber[followup.subscriber_id].append(followup)

    def open_missing(self, wanted: Iterable[tuple[int, int | None, int | None]]) -> None:
        """Open at once the follow-ups of (subscriber, campaign, delivery) not open yet."""
        missing = {(s, c): d for s, c, d in wanted if (s, c) not in self.by_pair}
        if not missing:
            return
        now = utcnow()
        rows = [{"subscriber_id": s, "campaign_id": c, "delivery_id": d, "created_at": now,
                 "status": str(FollowUpStatus.OPEN), "last_message_at": now}
                for (s, c), d in missing.items()]
        dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
        # NULL campaigns never collide in the unique index, so they need the loaded map above.
        db.session.execute(dialect.insert(FollowUp.__table__).on_conflict_do_nothing(
            index_elements=["subscriber_id", "campaign_id"]), rows)
        self._load({s for s, _ in missing})

    def find_or_open(self, subscriber_id: int, campaign_id: int | None,
                     delivery_id: int | None = None) -> FollowUp:
        """Return the follow-up of a subscriber and campaign, opening it if there is none."""
        self.open_missing([(subscriber_id, campaign_id, delivery_id)])
        return self.by_pair[(subscriber_id, campaign_id)]


def find_or_open_followup(subscriber_id: int, campaign_id: int | None,
                          delivery_id: int | None = None) -> FollowUp:
    """Return the follow-up of a subscriber and campaign, opening it if there is none."""
    return Threads([subscriber_id]).find_or_open(subscriber_id, campaign_id, delivery_id)


def append_reply(followup: FollowUp, message: InboundMessage,
                 effects: Effects | None = None) -> None:
    """Add an inbound message to a thread once and mark the thread as waiting on us."""
    threads = filed_effects(message).get("threads", [])
    if followup.id in threads and _appended(followup.id, message.id):
        return  # filed before, and the thread still has it
    note_effect(message, "threads", [*threads, followup.id])
    details = message.details or {}
    with gathered(effects) as effects:
        effects.add_thread_message({
            "followup_id": followup.id, "direction": str(Direction.INBOUND),
            "inbound_message_id": message.id, "subject": message.subject,
            "text": message.new_text, "message_id": _bracketed(message.message_id)[:250],
            "in_reply_to": _bracketed(details.get("in_reply_to", ""))[:250],
            "references": " ".join(_bracketed(r) for r in details.get("references", [])),
            "created_at": message.received_at})
    _mark_waiting_on_us(followup, message.received_at)


def _appended(followup_id: int, inbound_id: int) -> bool:
    """Tell whether a thread holds an inbound message already."""
    return db.session.scalar(select(FollowUpMessage.id).where(
        FollowUpMessage.followup_id == followup_id,
        FollowUpMessage.inbound_message_id == inbound_id).limit(1)) is not None


def _mark_waiting_on_us(followup: FollowUp, at: datetime) -> None:
    """Show a thread as unread and ours to answer; a reply wakes a snoozed or done thread."""
    followup.unread = True
    followup.waiting_on = "me"
    followup.last_message_at = max(followup.last_message_at or at, at)
    if followup.status != FollowUpStatus.OPEN:
        followup.status = FollowUpStatus.OPEN
        followup.snoozed_until = None
        followup.closed_at = None


def mark_replied(delivery_id: int | None, at: datetime, effects: Effects | None = None) -> None:
    """Record on the ledger row that its subscriber replied (the first reply's time)."""
    if delivery_id:
        with gathered(effects) as effects:
            effects.mark("replied_at", delivery_id, at)


def snooze_until_back(threads: list[FollowUp], back: datetime) -> list[FollowUp]:
    """Snooze the open follow-ups among these until they are back; return those changed."""
    if back <= utcnow():
        return []
    changed = []
    for followup in threads:
        if followup.status == FollowUpStatus.DONE:
            continue
        if followup.status == FollowUpStatus.SNOOZED and (followup.snoozed_until or back) >= back:
            continue  # already snoozed at least that long by someone
        followup.status = FollowUpStatus.SNOOZED
        followup.snoozed_until = back
        changed.append(followup)
    return changed


def _bracketed(message_id: str) -> str:
    """Return a Message-ID in the <…> form our ledger stores, '' for none."""
    value = (message_id or "").strip().strip("<>")
    return f"<{value}>" if value else ""


def filed_effects(message: InboundMessage) -> dict:
    """Return what earlier filing of this message already did (kept across re-processing)."""
    return dict((message.details or {}).get("filed") or {})


def note_effect(message: InboundMessage, key: str, value: object) -> None:
    """Remember an effect of filing on the message (reassigned so the JSON change is seen)."""
    filed = filed_effects(message)
    filed[key] = value
    message.details = {**(message.details or {}), "filed": filed}
