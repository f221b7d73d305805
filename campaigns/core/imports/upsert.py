"""Write a chunk of people in a few statements: one read, one INSERT ... ON CONFLICT, tags.

Consent is written only for people created here; the ON CONFLICT branch never touches
consent_status or consent_source, and an address on the suppression list is never re-added.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from campaigns.core.bulk import ignore_conflicts, in_values, insert_many, upsert_columns
from campaigns.core.imports.plan import Outcome, Person
from campaigns.db import db, utcnow
from campaigns.models import (
    ConsentEvent,
    ConsentSource,
    ConsentStatus,
    Subscriber,
    Suppression,
    SuppressionReason,
    Tag,
    address_hash,
    subscriber_tags,
)

SUPPRESSION_WORDS = {
    SuppressionReason.UNSUBSCRIBED: "they unsubscribed",
    SuppressionReason.HARD_BOUNCE: "the address bounced",
    SuppressionReason.SOFT_BOUNCES: "the address kept bouncing",
    SuppressionReason.COMPLAINT: "they reported spam",
    SuppressionReason.MANUAL: "suppressed by a user",
    SuppressionReason.ERASED: "erased at their request",
}


@dataclass
class ChunkResult:
    """What a chunk did to the list."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[Outcome] = field(default_factory=list)


def upsert_people(people: Sequence[Person], extra_tags: Sequence[str],
                  consent_detail: str) -> ChunkResult:
    """Create or update a chunk of people; tag them; never change consent or suppression."""
    result = ChunkResult()
    existing = _existing([p.email for p in people])
    blocked = _suppression_reasons([p.email for p in people if p.email not in existing])
    tag_ids = ensure_tags([*extra_tags, *(t for p in people for t in p.tags)])
    rows, keep = [], []
    for person in people:
        if person.email in blocked:
            result.skipped.append(Outcome(person.line, person.email,
                                          f"on the suppression list ({blocked[person.email]})"))
            continue
        keep.append(person)
        row = _row_for(person, existing.get(person.email))
        if row is not None:
            rows.append(row)
    ids = _write(rows)
    ids.update({email: values["id"] for email, values in existing.items()})
    added = _link_tags(keep, extra_tags, tag_ids, ids)
    _count(result, keep, existing, {r["email"] for r in rows}, added)
    _record_consent([ids[p.email] for p in keep if p.email not in existing], consent_detail)
    return result


def _existing(emails: list[str]) -> dict[str, dict[str, Any]]:
    """Return the subscribers already on the list for these addresses, by address."""
    if not emails:
        return {}
    columns = (Subscriber.id, Subscriber.email, Subscriber.first_name, Subscriber.last_name,
               Subscriber.company, Subscriber.fields)
    rows = db.session.execute(select(*columns).where(in_values(Subscriber.email, emails)))
    return {row.email: row._asdict() for row in rows}


def _suppression_reasons(emails: list[str]) -> dict[str, str]:
    """Return the suppressed addresses among these, with a reason in words (by hash)."""
    by_hash = {address_hash(e): e for e in emails}
    if not by_hash:
        return {}
    rows = db.session.execute(select(Suppression.address_hash, Suppression.reason)
                              .where(in_values(Suppression.address_hash, list(by_hash))))
    return {by_hash[h]: SUPPRESSION_WORDS.get(r, r) for h, r in rows}


def _row_for(person: Person, current: dict[str, Any] | None) -> dict[str, Any] | None:
    """Return the values to write for a person, or None when the list already says it all."""
    now = utcnow()
    if current is None:
        return {"email": person.email, "first_name": person.first_name,
                "last_name": person.last_name, "company": person.company,
                "fields": dict(person.fields), "consent_status": ConsentStatus.SUBSCRIBED,
                "consent_source": ConsentSource.IMPORT, "soft_bounces": 0,
                "created_at": now, "updated_at": now}
    merged = {name: getattr(person, name) or current[name]
              for name in ("first_name", "last_name", "company")}
    fields = {**(current["fields"] or {}), **person.fields}
    if all(merged[n] == current[n] for n in merged) and fields == (current["fields"] or {}):
        return None
    return {"email": person.email, **merged, "fields": fields,
            "consent_status": ConsentStatus.SUBSCRIBED,  # used only if the row vanished
            "consent_source": ConsentSource.IMPORT, "soft_bounces": 0,
            "created_at": now, "updated_at": now}


def _write(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Upsert the rows in one statement; return the ids of these addresses."""
    if not rows:
        return {}
    insert_many(Subscriber.__table__, rows, upsert_columns(
        ["email"], ["first_name", "last_name", "company", "fields", "updated_at"]))
    found = db.session.execute(select(Subscriber.id, Subscriber.email)
                               .where(in_values(Subscriber.email, [r["email"] for r in rows])))
    return {row.email: row.id for row in found}


def ensure_tags(names: Iterable[str]) -> dict[str, int]:
    """Return tag ids by lower-cased name, creating missing tags (names match any case)."""
    wanted: dict[str, str] = {}
    for name in names:
        wanted.setdefault(name.strip().lower(), name.strip())
    wanted.pop("", None)
    if not wanted:
        return {}
    found = _tag_ids(wanted)
    missing = [{"name": wanted[k]} for k in wanted if k not in found]
    if missing:
        insert_many(Tag.__table__, missing, ignore_conflicts)
        found = _tag_ids(wanted)
    return found


def _tag_ids(wanted: dict[str, str]) -> dict[str, int]:
    """Return ids of existing tags whose lower-cased name is wanted."""
    rows = db.session.execute(select(Tag.id, func.lower(Tag.name).label("key"))
                              .where(func.lower(Tag.name).in_(list(wanted))))
    return {row.key: row.id for row in rows}


def _link_tags(people: list[Person], extra: Sequence[str], tag_ids: dict[str, int],
               ids: dict[str, int]) -> set[str]:
    """Add the tags each person should have; return the addresses that gained a tag."""
    wanted = {(ids[p.email], tag_ids[t.strip().lower()])
              for p in people for t in [*extra, *p.tags] if t.strip()}
    if not wanted:
        return set()
    have = {(row.subscriber_id, row.tag_id) for row in db.session.execute(
        select(subscriber_tags.c.subscriber_id, subscriber_tags.c.tag_id).where(
            in_values(subscriber_tags.c.subscriber_id, list({s for s, _ in wanted})),
            in_values(subscriber_tags.c.tag_id, list({t for _, t in wanted}))))}
    new = wanted - have
    if new:
        insert_many(subscriber_tags, [{"subscriber_id": s, "tag_id": t} for s, t in new],
                    ignore_conflicts)
    by_id = {v: k for k, v in ids.items()}
    return {by_id[s] for s, _ in new}


def _count(result: ChunkResult, people: list[Person], existing: dict[str, Any],
           written: set[str], tagged: set[str]) -> None:
    """Count each person once: created, updated (fields or tags) or unchanged."""
    for person in people:
        if person.email not in existing:
            result.created += 1
        elif person.email in written or person.email in tagged:
            result.updated += 1
        else:
            result.unchanged += 1


def _record_consent(subscriber_ids: list[int], detail: str) -> None:
    """Record how the people created by this chunk came onto the list."""
    if subscriber_ids:
        now = utcnow()
        insert_many(ConsentEvent.__table__, [
            {"subscriber_id": sid, "status": ConsentStatus.SUBSCRIBED,
             "source": ConsentSource.IMPORT, "detail": detail, "created_at": now}
            for sid in subscriber_ids])
