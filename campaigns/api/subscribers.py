"""Subscribers in the API: list, create, read, change, delete, import, privacy, segments."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, request
from sqlalchemy import select

from campaigns.api import bp
from campaigns.api.spec import documented
from campaigns.core import (
    consent,
    imports,
    privacy,
    segments,
    subscriber_list,
    subscribers,
    suppression,
)
from campaigns.core.audience import audience_count
from campaigns.core.imports.mapping import parse_map_options
from campaigns.core.subscriber_list import ListFilter
from campaigns.db import db
from campaigns.errors import Conflict, NotFound, ValidationError
from campaigns.models import (
    ConsentSource,
    ConsentStatus,
    Segment,
    Subscriber,
    SubscriberImport,
    Suppression,
    SuppressionReason,
)
from campaigns.values import parse_id

SUBSCRIBER_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "email": {"type": "string"},
    "first_name": {"type": "string"}, "last_name": {"type": "string"},
    "company": {"type": "string"},
    "fields": {"type": "object", "additionalProperties": {"type": "string"}},
    "tags": {"type": "array", "items": {"type": "string"}},
    "consent_status": {"type": "string", "enum": ["subscribed", "pending", "unsubscribed"]},
    "consent_source": {"type": "string"},
    "suppressed": {"type": ["string", "null"], "description": "suppression reason, if any"},
    "created_at": {"type": "string", "format": "date-time"},
    "updated_at": {"type": "string", "format": "date-time"}}}
SUBSCRIBER_INPUT = {"type": "object", "properties": {
    "email": {"type": "string"}, "first_name": {"type": "string"},
    "last_name": {"type": "string"}, "company": {"type": "string"},
    "fields": {"type": "object", "description": "custom fields; on PATCH a null value "
                                                "removes the field"},
    "tags": {"type": "array", "items": {"type": "string"}, "description": "on PATCH, the "
                                                                           "complete new set"},
    "consent_status": {"type": "string", "enum": ["unsubscribed"], "description":
                       "PATCH only: record an unsubscribe. Re-subscribing is only possible "
                       "for the person, through the signup form's double opt-in."}}}
OUTCOME_SCHEMA = {"type": "object", "properties": {
    "line": {"type": "integer"}, "email": {"type": "string"}, "reason": {"type": "string"}}}
REPORT_SCHEMA = {"type": "object", "description": "The report when the import ran at once; a "
                 "long import answers 202 {\"import_id\", \"status\": \"running\"} instead.",
                 "properties": {
                     "import_id": {"type": "integer"},
                     "status": {"type": "string", "enum": ["running", "done", "failed"]},
                     "total_rows": {"type": "integer"}, "processed_rows": {"type": "integer"},
                     "created": {"type": "integer"}, "updated": {"type": "integer"},
                     "unchanged": {"type": "integer"}, "skipped": {"type": "integer"},
                     "merged": {"type": "integer"},
                     "errors": {"type": "array", "items": OUTCOME_SCHEMA},
                     "duplicates": {"type": "array", "items": OUTCOME_SCHEMA},
                     "error": {"type": ["string", "null"]}}}
LIST_SCHEMA = {"type": "object", "properties": {
    "subscribers": {"type": "array", "items": SUBSCRIBER_SCHEMA},
    "total": {"type": "integer"}, "next": {"type": ["string", "null"]}}}
SEGMENT_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"},
    "rules": {"type": "object", "description": "see campaigns/core/segments.py"},
    "count": {"type": "integer", "description": "people a campaign to it reaches now"}}}


def subscriber_json(subscriber: Subscriber, suppressed: dict[str, Any] | None = None
                    ) -> dict[str, Any]:
    """Return the API's view of a subscriber (``suppressed``: a page's reasons, read at once)."""
    if suppressed is None:
        suppressed = suppression.reasons_among([subscriber.email])
    reason = suppressed.get(subscriber.email)
    return {"id": subscriber.id, "email": subscriber.email,
            "first_name": subscriber.first_name, "last_name": subscriber.last_name,
            "company": subscriber.company, "fields": subscriber.fields or {},
            "tags": subscriber.tag_names, "consent_status": str(subscriber.consent_status),
            "consent_source": str(subscriber.consent_source),
            "suppressed": str(reason) if reason else None,
            "created_at": subscriber.created_at.isoformat(),
            "updated_at": subscriber.updated_at.isoformat()}


def _body() -> dict[str, Any]:
    """Return the JSON object of the request or raise ValidationError."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationError("Send a JSON object.")
    return data


@bp.get("/subscribers")
@documented(response=LIST_SCHEMA, query={
    "q": "search words (address, names, company)", "tag": "only people with this tag",
    "status": "subscribed | pending | unsubscribed | suppressed",
    "segment": "only people matching this segment id", "sort": "newest | oldest | email | name",
    "limit": "page size, up to 500 (default 100)", "after": "the `next` of the previous page"})
def list_subscribers():
    """List subscribers, a page at a time."""
    segment = request.args.get("segment", "")
    list_filter = ListFilter(q=request.args.get("q", ""), tag=request.args.get("tag", ""),
                             status=request.args.get("status", ""),
                             segment_id=parse_id(segment))
    limit = min(max(request.args.get("limit", 100, type=int) or 100, 1), 500)
    page = subscriber_list.page(list_filter, request.args.get("sort", "newest"),
                                after=request.args.get("after"), limit=limit)
    reasons = suppression.reasons_among(s.email for s in page.subscribers)
    return jsonify(subscribers=[subscriber_json(s, reasons) for s in page.subscribers],
                   total=subscriber_list.count(list_filter), next=page.next_cursor)


@bp.post("/subscribers")
@documented(body=SUBSCRIBER_INPUT, response=SUBSCRIBER_SCHEMA, status=201)
def create_subscriber():
    """Add a subscriber (refused if the address is listed or suppressed)."""
    data = _body()
    names = {k: data.get(k) for k in subscribers.EDITABLE if data.get(k) is not None}
    subscriber = subscribers.create_subscriber(
        str(data.get("email") or ""), source=ConsentSource.API, tags=_tags(data),
        fields=_fields(data), detail="Added through the API", **names)
    db.session.commit()
    return jsonify(subscriber_json(subscriber)), 201


def _tags(data: dict[str, Any]) -> list[str]:
    tags = data.get("tags") or []
    if not isinstance(tags, list):
        raise ValidationError("tags must be a list of strings.")
    return [str(t) for t in tags]


def _fields(data: dict[str, Any]) -> dict[str, Any] | None:
    fields = data.get("fields")
    if fields is not None and not isinstance(fields, dict):
        raise ValidationError("fields must be an object.")
    return fields


@bp.get("/subscribers/<int:subscriber_id>")
@documented(response=SUBSCRIBER_SCHEMA)
def get_subscriber(subscriber_id: int):
    """Return one subscriber."""
    return jsonify(subscriber_json(subscribers.get_subscriber(subscriber_id)))


@bp.patch("/subscribers/<int:subscriber_id>")
@documented(body=SUBSCRIBER_INPUT, response=SUBSCRIBER_SCHEMA)
def update_subscriber(subscriber_id: int):
    """Change a subscriber; consent can only be set to unsubscribed."""
    subscriber = subscribers.get_subscriber(subscriber_id)
    data = _body()
    names = {k: data[k] for k in subscribers.EDITABLE if k in data}
    subscribers.update_subscriber(subscriber, email=data.get("email"), fields=_fields(data),
                                  **names)
    if "tags" in data:
        subscribers.set_tags(subscriber, _tags(data))
    _change_consent(subscriber, data.get("consent_status"))
    db.session.commit()
    db.session.refresh(subscriber)
    return jsonify(subscriber_json(subscriber))


def _change_consent(subscriber: Subscriber, status: Any) -> None:
    """Apply a consent change asked through the API (unsubscribe only)."""
    if status is None or status == subscriber.consent_status:
        return
    if status != ConsentStatus.UNSUBSCRIBED:
        raise Conflict("Only the person can (re-)subscribe, through the signup form's double "
                       "opt-in. The API can record an unsubscribe.")
    consent.unsubscribe(subscriber, ConsentSource.API, "Unsubscribed through the API")


@bp.delete("/subscribers/<int:subscriber_id>")
@documented(response={"type": "object", "description": "empty"}, status=204)
def delete_subscriber(subscriber_id: int):
    """Delete a subscriber and their history (a later import may add them again)."""
    subscribers.get_subscriber(subscriber_id)
    subscribers.delete_subscribers([subscriber_id])
    db.session.commit()
    return "", 204


@bp.post("/subscribers/<int:subscriber_id>/erase")
@documented(response={"type": "object", "description": "empty"}, status=204)
def erase_subscriber(subscriber_id: int):
    """Erase a person for good; a hash of the address stays suppressed."""
    files = privacy.erase_person(subscribers.get_subscriber(subscriber_id))
    db.session.commit()
    privacy.remove_files(files)
    return "", 204


@bp.get("/subscribers/<int:subscriber_id>/export")
@documented(response={"type": "object", "description": "everything held about the person"})
def export_subscriber(subscriber_id: int):
    """Return everything held about one person (a privacy access request)."""
    return jsonify(privacy.export_person(subscribers.get_subscriber(subscriber_id)))


@bp.post("/subscribers/import")
@documented(body={"type": "string", "description": "the CSV or vCard file (or multipart "
                  "form data with the file in the field `file`)"},
            content_type="text/csv", response=REPORT_SCHEMA, query={
                "tag": "tag everyone in the file (repeatable)",
                "map": "COLUMN=FIELD, e.g. `Mail=email` or `Role=fields.role` (repeatable)",
                "filename": "the name shown in the import history (raw bodies have none)"})
def import_subscribers():
    """Import a CSV or vCard file; small files answer with the report, long ones with 202."""
    data, filename = _uploaded()
    imp = imports.create_import(data, filename, tags=request.args.getlist("tag"),
                                overrides=parse_map_options(request.args.getlist("map")),
                                user_id=g.api_user.id)
    queued = imports.start_import(imp)
    db.session.commit()
    if queued:
        return jsonify(import_id=imp.id, status="running"), 202
    return jsonify(imports.public_report(imp))


def _uploaded() -> tuple[bytes, str]:
    """Return the file of an import request: multipart field `file`, or the raw body."""
    if request.files:
        upload = request.files.get("file")
        if upload is None:
            raise ValidationError("Send the file in the multipart field 'file'.")
        return upload.read(), upload.filename or "upload.csv"
    return request.get_data(), request.args.get("filename", "upload.csv")


@bp.get("/subscribers/imports/<int:import_id>")
@documented(response=REPORT_SCHEMA)
def get_import(import_id: int):
    """Return an import's status, progress and report."""
    imp = db.session.get(SubscriberImport, import_id)
    if imp is None:
        raise NotFound("No such import.")
    return jsonify(imports.public_report(imp))


@bp.get("/tags")
@documented(response={"type": "array", "items": {"type": "object", "properties": {
    "name": {"type": "string"}, "subscribers": {"type": "integer"}}}})
def list_tags():
    """List tags and how many subscribers carry each."""
    return jsonify([{"name": n, "subscribers": c} for n, c in subscribers.all_tags()])


def segment_json(segment: Segment) -> dict[str, Any]:
    """Return the API's view of a segment."""
    return {"id": segment.id, "name": segment.name, "rules": segment.rules,
            "count": audience_count({"segment_id": segment.id})}


@bp.get("/segments")
@documented(response={"type": "array", "items": SEGMENT_SCHEMA})
def list_segments():
    """List saved segments with how many people each reaches now."""
    rows = db.session.scalars(select(Segment).order_by(Segment.name))
    return jsonify([segment_json(s) for s in rows])


@bp.post("/segments")
@documented(body={"type": "object", "properties": {"name": {"type": "string"},
                                                     "rules": {"type": "object"}}},
            response=SEGMENT_SCHEMA, status=201)
def create_segment():
    """Save a segment: {"name", "rules": {"match": "all"|"any", "conditions": [...]}}."""
    data = _body()
    segment = segments.save_segment(str(data.get("name") or ""), data.get("rules") or {})
    db.session.commit()
    return jsonify(segment_json(segment)), 201


@bp.get("/segments/<int:segment_id>")
@documented(response=SEGMENT_SCHEMA)
def get_segment(segment_id: int):
    """Return a segment and how many people it reaches now."""
    return jsonify(segment_json(segments.get_segment(segment_id)))


@bp.delete("/segments/<int:segment_id>")
@documented(response={"type": "object", "description": "empty"}, status=204)
def delete_segment(segment_id: int):
    """Delete a segment."""
    segments.delete_segment(segments.get_segment(segment_id))
    db.session.commit()
    return "", 204


SUPPRESSION_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "email": {"type": ["string", "null"],
                                         "description": "null once the person was erased"},
    "reason": {"type": "string", "enum": [r.value for r in SuppressionReason]},
    "detail": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"}}}


def suppression_json(entry: Suppression) -> dict[str, Any]:
    """Return the API's view of a suppression list entry."""
    return {"id": entry.id, "email": entry.email, "reason": str(entry.reason),
            "detail": entry.detail, "created_at": entry.created_at.isoformat()}


@bp.get("/suppressions")
@documented(response={"type": "array", "items": SUPPRESSION_SCHEMA}, query={
    "q": "part of an address", "before": "the id of the last entry of the previous page"})
def list_suppressions():
    """List the suppression list, newest first, 500 at a time."""
    rows = consent.suppressions_page(request.args.get("q", ""),
                                     request.args.get("before", type=int), 500)
    return jsonify([suppression_json(e) for e in rows])


@bp.post("/suppressions")
@documented(body={"type": "object", "properties": {"email": {"type": "string"},
                                                     "detail": {"type": "string"}}},
            response=SUPPRESSION_SCHEMA, status=201)
def create_suppression():
    """Suppress an address by hand (idempotent: an existing entry keeps its reason)."""
    data = _body()
    entry = consent.suppress_address(str(data.get("email") or ""), str(data.get("detail") or ""))
    db.session.commit()
    return jsonify(suppression_json(entry)), 201


@bp.delete("/suppressions/<int:suppression_id>")
@documented(response={"type": "object", "description": "empty"}, status=204)
def delete_suppression(suppression_id: int):
    """Lift a manual suppression (other reasons only the person can lift: 409)."""
    entry = db.session.get(Suppression, suppression_id)
    if entry is None:
        raise NotFound("No such suppression.")
    consent.lift_suppression(entry)
    db.session.commit()
    return "", 204
