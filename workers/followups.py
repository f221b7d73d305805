"""Follow-up housekeeping: snoozed conversations come back when their time has come."""

from __future__ import annotations

from campaigns.core import followups
from campaigns.db import db
from workers.sweeps import sweep


@sweep
def wake_snoozed_followups() -> None:
    """Reopen every snoozed conversation whose snooze has ended."""
    followups.wake_due()
    db.session.commit()
