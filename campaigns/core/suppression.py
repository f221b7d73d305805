"""The suppression list: addresses no send path may use, checked by hash."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import String, select

from campaigns.db import db, one_of
from campaigns.models import Suppression, SuppressionReason, address_hash


def suppression_of(email: str) -> Suppression | None:
    """Return the suppression list entry for an address, if any."""
    return db.session.scalar(select(Suppression)
                             .where(Suppression.address_hash == address_hash(email)))


def is_suppressed(email: str) -> bool:
    """Tell whether an address is on the suppression list."""
    return db.session.scalar(
        select(Suppression.id).where(Suppression.address_hash == address_hash(email))
    ) is not None


def suppressed_among(emails: Iterable[str]) -> set[str]:
    """Return the addresses of a batch that are suppressed (one query per batch)."""
    return set(reasons_among(emails))


def reasons_among(emails: Iterable[str]) -> dict[str, SuppressionReason]:
    """Return why each suppressed address of a batch is suppressed (one query per batch)."""
    by_hash = {address_hash(e): e for e in emails}
    if not by_hash:
        return {}
    found = db.session.execute(
        select(Suppression.address_hash, Suppression.reason).where(
            one_of(Suppression.address_hash, by_hash, String)))
    return {by_hash[h]: reason for h, reason in found}


def suppress(email: str, reason: SuppressionReason, detail: str = "") -> Suppression:
    """Add an address to the suppression list (idempotent; the first reason is kept)."""
    key = address_hash(email)
    existing = db.session.scalar(select(Suppression).where(Suppression.address_hash == key))
    if existing is not None:
        return existing
    row = Suppression(address_hash=key, email=email.strip().lower(), reason=reason,
                      detail=detail)
    db.session.add(row)
    db.session.flush()
    return row
