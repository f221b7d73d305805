"""The people on the list: add, change, tag, note and delete them.

Nothing here changes anyone's consent except ``create_subscriber`` for a new person; consent
changes go through campaigns.core.consent so each one is recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from email_validator import EmailNotValidError
from sqlalchemy import delete, func, select

from campaigns.core.bulk import ignore_conflicts, insert_many
from campaigns.core.imports.mapping import field_key
from campaigns.core.imports.plan import NAME_MAX, normalise_email, single_line, split_tags
from campaigns.core.imports.upsert import ensure_tags
from campaigns.core.suppression import is_suppressed
from campaigns.db import db
from campaigns.errors import Conflict, NotFound, ValidationError
from campaigns.models import (
    ConsentEvent,
    ConsentSource,
    ConsentStatus,
    Subscriber,
    SubscriberNote,
    Tag,
    subscriber_tags,
)

EDITABLE = ("first_name", "last_name", "company")
FIELD_KEY_MAX = 60
FIELD_VALUE_MAX = 2000


def normalise_address(email: str) -> str:
    """Return an address as the list stores it (validated, lower case) or raise."""
    try:
        return normalise_email(single_line(email or "")).email
    except EmailNotValidError as exc:
        raise ValidationError(f"{email!r} is not a valid email address: {exc}") from exc


def get_subscriber(subscriber_id: int) -> Subscriber:
    """Return a subscriber or raise NotFound."""
    subscriber = db.session.get(Subscriber, subscriber_id)
    if subscriber is None:
        raise NotFound("No such subscriber.")
    return subscriber


def find_by_email(email: str) -> Subscriber | None:
    """Return the subscriber with this address, if any (any spelling of it)."""
    try:
        address = normalise_address(email)
    except ValidationError:
        return None
    return db.session.scalar(select(Subscriber).where(Subscriber.email == address))


def create_subscriber(email: str, *, source: ConsentSource = ConsentSource.MANUAL,
                      status: ConsentStatus = ConsentStatus.SUBSCRIBED,
                      tags: Sequence[str] = (), fields: dict[str, Any] | None = None,
                      detail: str = "", **names: str) -> Subscriber:
    """Add a person; an address already listed or suppressed is refused with Conflict."""
    address = normalise_address(email)
    if db.session.scalar(select(Subscriber.id).where(Subscriber.email == address)):
        raise Conflict(f"{address} is already on the list.")
    if is_suppressed(address):
        raise Conflict(f"{address} is on the suppression list: they cannot be added again. "
                       f"Only they can come back, through the signup form.")
    subscriber = Subscriber(email=address, consent_status=status, consent_source=source,
                            fields={}, **_clean_names(names))
    subscriber.fields = clean_fields(fields or {})
    db.session.add(subscriber)
    db.session.flush()
    db.session.add(ConsentEvent(subscriber_id=subscriber.id, status=status, source=source,
                                detail=detail or "Added"))
    add_tags([subscriber.id], tags)
    return subscriber


def update_subscriber(subscriber: Subscriber, *, email: str | None = None,
                      fields: dict[str, Any] | None = None, **names: str) -> Subscriber:
    """Change a person's address, names or company; ``fields`` merges (None deletes a key)."""
    if email is not None:
        address = normalise_address(email)
        if address != subscriber.email:
            _check_new_address(address)
            subscriber.email = address
    for name, value in _clean_names(names).items():
        setattr(subscriber, name, value)
    if fields is not None:
        merged = {**(subscriber.fields or {}), **fields}
        subscriber.fields = clean_fields({k: v for k, v in merged.items() if v is not None})
    db.session.flush()
    return subscriber


def _check_new_address(address: str) -> None:
    """Refuse an address that another subscriber has or that is suppressed."""
    if db.session.scalar(select(Subscriber.id).where(Subscriber.email == address)):
        raise Conflict(f"{address} is already on the list.")
    if is_suppressed(address):
        raise Conflict(f"{address} is on the suppression list.")


def _clean_names(names: dict[str, Any]) -> dict[str, str]:
    """Return the editable name fields given, each as one trimmed line."""
    unknown = set(names) - set(EDITABLE)
    if unknown:
        raise ValidationError(f"Unknown field(s): {', '.join(sorted(unknown))}.")
    return {k: single_line(str(v or ""))[:NAME_MAX] for k, v in names.items() if v is not None}


def clean_fields(fields: dict[str, Any]) -> dict[str, str]:
    """Return custom fields with valid keys and string values (empty values dropped)."""
    cleaned = {}
    for key, value in fields.items():
        slug = field_key(str(key))[:FIELD_KEY_MAX]
        if not str(key).strip():
            raise ValidationError("A custom field needs a name.")
        text = str(value).strip()[:FIELD_VALUE_MAX] if value is not None else ""
        if text:
            cleaned[slug] = text
    return cleaned


def add_tags(subscriber_ids: Iterable[int], names: Iterable[str]) -> int:
    """Tag these subscribers (creating tags as needed); return the links added."""
    ids = list(subscriber_ids)
    tag_ids = ensure_tags(t for name in names for t in split_tags(name))
    if not ids or not tag_ids:
        return 0
    before = _link_count(ids, tag_ids.values())
    for start in range(0, len(ids), 5000):
        insert_many(subscriber_tags, [{"subscriber_id": s, "tag_id": t}
                                      for s in ids[start:start + 5000]
                                      for t in tag_ids.values()], ignore_conflicts)
    _expire(ids)
    return _link_count(ids, tag_ids.values()) - before


def remove_tags(subscriber_ids: Iterable[int], names: Iterable[str]) -> int:
    """Remove tags from these subscribers; return the links removed."""
    ids = list(subscriber_ids)
    lowered = [t.lower() for name in names for t in split_tags(name)]
    tag_ids = list(db.session.scalars(select(Tag.id).where(func.lower(Tag.name).in_(lowered))))
    if not ids or not tag_ids:
        return 0
    removed = 0
    for start in range(0, len(ids), 5000):
        removed += db.session.execute(delete(subscriber_tags).where(
            subscriber_tags.c.subscriber_id.in_(ids[start:start + 5000]),
            subscriber_tags.c.tag_id.in_(tag_ids))).rowcount
    _expire(ids)
    return removed


def _link_count(ids: list[int], tag_ids: Iterable[int]) -> int:
    """Count tag links among these subscribers and tags."""
    query = select(func.count()).select_from(subscriber_tags).where(
        subscriber_tags.c.tag_id.in_(list(tag_ids)))
    total = 0
    for start in range(0, len(ids), 5000):
        total += db.session.scalar(query.where(
            subscriber_tags.c.subscriber_id.in_(ids[start:start + 5000]))) or 0
    return total


def _expire(ids: list[int]) -> None:
    """Forget loaded tag lists of these subscribers (they were changed in SQL)."""
    wanted = set(ids)
    for subscriber in list(db.session.identity_map.values()):
        if isinstance(subscriber, Subscriber) and subscriber.id in wanted:
            db.session.expire(subscriber, ["tags"])


def set_tags(subscriber: Subscriber, names: Iterable[str]) -> None:
    """Make a subscriber's tags exactly these."""
    wanted = {t.lower() for name in names for t in split_tags(name)}
    remove_tags([subscriber.id], [t for t in subscriber.tag_names if t.lower() not in wanted])
    add_tags([subscriber.id], list(wanted))


def delete_subscribers(subscriber_ids: Iterable[int]) -> int:
    """Delete people (their history goes with them; a later import may add them again)."""
    ids = list(subscriber_ids)
    deleted = 0
    for start in range(0, len(ids), 5000):
        deleted += db.session.execute(delete(Subscriber).where(
            Subscriber.id.in_(ids[start:start + 5000]))
            .execution_options(synchronize_session=False)).rowcount
    db.session.expire_all()
    return deleted


def add_note(subscriber: Subscriber, body: str, author_id: int | None) -> SubscriberNote:
    """Keep a private note about a person."""
    text = (body or "").strip()
    if not text:
        raise ValidationError("Write something in the note.")
    note = SubscriberNote(subscriber_id=subscriber.id, author_id=author_id, body=text[:10000])
    db.session.add(note)
    db.session.flush()
    return note


def all_tags() -> list[tuple[str, int]]:
    """Return every tag with how many subscribers carry it, by name."""
    rows = db.session.execute(
        select(Tag.name, func.count(subscriber_tags.c.subscriber_id))
        .outerjoin(subscriber_tags, subscriber_tags.c.tag_id == Tag.id)
        .group_by(Tag.id, Tag.name).order_by(func.lower(Tag.name)))
    return [(name, count) for name, count in rows]


def tag_names() -> list[str]:
    """Return every tag's name, by name (for pickers: no counting)."""
    return list(db.session.scalars(select(Tag.name).order_by(func.lower(Tag.name))))


def field_keys() -> list[str]:
    """Return the custom field keys in use (sampled from the newest people, for pickers)."""
    keys: set[str] = set()
    for fields in db.session.scalars(select(Subscriber.fields)
                                     .order_by(Subscriber.id.desc()).limit(2000)):
        keys.update(fields or {})
    return sorted(keys)
