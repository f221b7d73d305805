"""Named leases, so one process of many does a periodic job (no scheduler service needed)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from campaigns.db import db, utcnow
from campaigns.models import Lease


def acquire(name: str, holder: str, ttl: timedelta) -> bool:
    """Take the lease if it is free or expired; tell whether this holder now has it."""
    now = utcnow()
    taken = db.session.execute(
        update(Lease).where(Lease.name == name, Lease.expires_at <= now)
        .values(holder=holder, expires_at=now + ttl)
        .execution_options(synchronize_session=False)).rowcount
    if taken:
        return True
    if db.session.get(Lease, name) is not None:
        return False
    try:
        with db.session.begin_nested():
            db.session.add(Lease(name=name, holder=holder, expires_at=now + ttl))
    except IntegrityError:
        return False  # another process created it first
    return True


def renew(name: str, holder: str, ttl: timedelta) -> bool:
    """Extend a lease this holder has; tell whether it still had it."""
    return db.session.execute(
        update(Lease).where(Lease.name == name, Lease.holder == holder)
        .values(expires_at=utcnow() + ttl)
        .execution_options(synchronize_session=False)).rowcount > 0


def is_held(name: str) -> bool:
    """Tell whether someone holds a lease that has not expired."""
    lease = db.session.get(Lease, name)
    return lease is not None and lease.expires_at > utcnow()
