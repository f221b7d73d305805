"""Saved segments: rules over tags, fields and engagement, turned into one SQL condition.

Rules are ``{"match": "all" | "any", "conditions": [condition, ...]}``; each condition has a
``type`` and may say ``"negate": true``:

- ``{"type": "tag", "value": "vip"}`` has the tag (any case)
- ``{"type": "field", "field": "company" | "first_name" | "last_name" | "email" | <custom key>,
  "op": "is" | "contains" | "starts_with" | "is_set" | "is_empty", "value": "..."}``
- ``{"type": "received", "campaign_id": N | null}`` was sent campaign N (any campaign if null)
- ``{"type": "replied", "campaign_id": N | null}`` replied to campaign N (any if null)
- ``{"type": "never_replied"}`` never replied to any campaign
- ``{"type": "open_conversation"}`` has a follow-up that is not done
- ``{"type": "outcome", "value": "coffee_booked", "campaign_id": N | null}`` a follow-up
  ended with this outcome
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, true

from campaigns.core.imports.mapping import field_key
from campaigns.db import db
from campaigns.errors import Conflict, NotFound, ValidationError
from campaigns.models import (
    Delivery,
    DeliveryState,
    FollowUp,
    FollowUpStatus,
    Segment,
    Subscriber,
    Tag,
    subscriber_tags,
)

TYPES = {
    "tag": "has tag", "field": "field", "received": "received campaign",
    "replied": "replied to campaign", "never_replied": "never replied",
    "open_conversation": "has an open conversation", "outcome": "conversation outcome is",
}
FIELD_OPS = {"is": "is", "contains": "contains", "starts_with": "starts with",
             "is_set": "is set", "is_empty": "is empty"}
CORE_FIELDS = ("email", "first_name", "last_name", "company")
MAX_CONDITIONS = 30


def validate_rules(rules: dict[str, Any] | None) -> dict[str, Any]:
    """Return rules in canonical form, or raise ValidationError saying what is wrong."""
    rules = rules or {}
    match = rules.get("match", "all")
    if match not in ("all", "any"):
        raise ValidationError('Rules must match "all" or "any" conditions.')
    conditions = rules.get("conditions") or []
    if not isinstance(conditions, list) or len(conditions) > MAX_CONDITIONS:
        raise ValidationError(f"A segment has a list of up to {MAX_CONDITIONS} conditions.")
    return {"match": match, "conditions": [_condition(c, i + 1)
                                           for i, c in enumerate(conditions)]}


def _condition(raw: Any, number: int) -> dict[str, Any]:
    """Return one condition in canonical form."""
    if not isinstance(raw, dict) or raw.get("type") not in TYPES:
        raise ValidationError(f"Condition {number}: choose one of {', '.join(TYPES)}.")
    kind = raw["type"]
    out: dict[str, Any] = {"type": kind, "negate": bool(raw.get("negate"))}
    if kind in ("tag", "outcome"):
        out["value"] = str(raw.get("value") or "").strip()
        if not out["value"]:
            raise ValidationError(f"Condition {number}: say which {kind}.")
    if kind in ("received", "replied", "outcome"):
        out["campaign_id"] = _campaign_id(raw.get("campaign_id"), number)
    if kind == "field":
        out.update(_field_condition(raw, number))
    return out


def _campaign_id(value: Any, number: int) -> int | None:
    """Return a campaign id or None (any campaign)."""
    if value in (None, "", 0, "0"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"Condition {number}: not a campaign.") from exc


def _field_condition(raw: dict[str, Any], number: int) -> dict[str, Any]:
    """Return the field, operator and value of a field condition."""
    name = str(raw.get("field") or "").strip()
    op = raw.get("op") or "is"
    if not name or op not in FIELD_OPS:
        raise ValidationError(f"Condition {number}: choose a field and how to compare it.")
    value = str(raw.get("value") or "").strip()
    if op not in ("is_set", "is_empty") and not value:
        raise ValidationError(f"Condition {number}: give a value to compare with.")
    field = name if name in CORE_FIELDS else field_key(name.removeprefix("fields."))
    return {"field": field, "op": op, "value": value}


def rules_condition(rules: dict[str, Any] | None) -> ColumnElement[bool]:
    """Return the SQL condition on Subscriber that the rules describe (no rules: everyone)."""
    checked = validate_rules(rules)
    parts = [_sql(c) for c in checked["conditions"]]
    if not parts:
        return true()
    return and_(*parts) if checked["match"] == "all" else or_(*parts)


def _sql(condition: dict[str, Any]) -> ColumnElement[bool]:
    """Return the SQL of one condition."""
    kind = condition["type"]
    clause = {"tag": _has_tag, "field": _field, "received": _received, "replied": _replied,
              "never_replied": lambda c: ~_replied({"campaign_id": None}),
              "open_conversation": _open_conversation, "outcome": _outcome}[kind](condition)
    return ~clause if condition["negate"] else clause


def _has_tag(condition: dict[str, Any]) -> ColumnElement[bool]:
    return has_tag(condition["value"])


def has_tag(name: str) -> ColumnElement[bool]:
    """SQL condition: the subscriber carries the tag (any case)."""
    return exists().where(subscriber_tags.c.subscriber_id == Subscriber.id,
                          subscriber_tags.c.tag_id == Tag.id,
                          func.lower(Tag.name) == name.lower())


def _field(condition: dict[str, Any]) -> ColumnElement[bool]:
    name, op, value = condition["field"], condition["op"], condition["value"].lower()
    column = getattr(Subscriber, name) if name in CORE_FIELDS \
        else Subscriber.fields[name].as_string()
    text = func.lower(func.coalesce(column, ""))
    if op == "is_set":
        return text != ""
    if op == "is_empty":
        return text == ""
    if op == "is":
        return text == value
    pattern = like_escape(value)
    return text.like(f"%{pattern}%" if op == "contains" else f"{pattern}%", escape="\\")


def like_escape(value: str) -> str:
    """Escape LIKE wildcards in a user's value."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _for_campaign(condition: dict[str, Any], column: Any) -> list[ColumnElement[bool]]:
    campaign_id = condition.get("campaign_id")
    return [column == campaign_id] if campaign_id else []


def _received(condition: dict[str, Any]) -> ColumnElement[bool]:
    return exists().where(Delivery.subscriber_id == Subscriber.id,
                          Delivery.state == DeliveryState.SENT,
                          *_for_campaign(condition, Delivery.campaign_id))


def _replied(condition: dict[str, Any]) -> ColumnElement[bool]:
    """A reply opened a follow-up, or the ledger marked the delivery as replied."""
    return or_(
        exists().where(FollowUp.subscriber_id == Subscriber.id,
                       *_for_campaign(condition, FollowUp.campaign_id)),
        exists().where(Delivery.subscriber_id == Subscriber.id, Delivery.replied_at.is_not(None),
                       *_for_campaign(condition, Delivery.campaign_id)))


def _open_conversation(condition: dict[str, Any]) -> ColumnElement[bool]:
    return exists().where(FollowUp.subscriber_id == Subscriber.id,
                          FollowUp.status != FollowUpStatus.DONE)


def _outcome(condition: dict[str, Any]) -> ColumnElement[bool]:
    return exists().where(FollowUp.subscriber_id == Subscriber.id,
                          func.lower(FollowUp.outcome) == condition["value"].lower(),
                          *_for_campaign(condition, FollowUp.campaign_id))


def count_matching(rules: dict[str, Any] | None) -> int:
    """Return how many subscribers (any consent) the rules match now."""
    return db.session.scalar(select(func.count(Subscriber.id))
                             .where(rules_condition(rules))) or 0


def get_segment(segment_id: int) -> Segment:
    """Return a segment or raise NotFound."""
    segment = db.session.get(Segment, segment_id)
    if segment is None:
        raise NotFound("No such segment.")
    return segment


def save_segment(name: str, rules: dict[str, Any], segment: Segment | None = None) -> Segment:
    """Create or change a segment (names are unique)."""
    name = (name or "").strip()[:200]
    if not name:
        raise ValidationError("Give the segment a name.")
    clash = db.session.scalar(select(Segment.id).where(func.lower(Segment.name) == name.lower()))
    if clash is not None and (segment is None or clash != segment.id):
        raise Conflict(f"A segment called {name!r} exists already.")
    segment = segment or Segment()
    segment.name, segment.rules = name, validate_rules(rules)
    db.session.add(segment)
    db.session.flush()
    return segment


def delete_segment(segment: Segment) -> None:
    """Delete a segment (campaigns that used it keep their recorded audience)."""
    db.session.delete(segment)
    db.session.flush()


def describe(rules: dict[str, Any]) -> str:
    """Return the rules in words, for lists."""
    parts = []
    for c in (rules or {}).get("conditions", []):
        text = TYPES.get(c.get("type"), "?")
        if c.get("type") == "field":
            text = f"{c.get('field')} {FIELD_OPS.get(c.get('op'), '')} {c.get('value', '')}"
        elif c.get("value"):
            text += f" {c['value']}"
        if c.get("campaign_id"):
            text += f" (campaign #{c['campaign_id']})"
        parts.append(("not " if c.get("negate") else "") + text.strip())
    joiner = " and " if (rules or {}).get("match", "all") == "all" else " or "
    return joiner.join(parts) or "everyone"

