"""Saved segments: list them with their size, edit their rules with a live count."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select

from campaigns.core import segments, subscribers
from campaigns.core.audience import audience_count, rules_count
from campaigns.db import db
from campaigns.errors import CampaignsError
from campaigns.models import Campaign, Outcome, Segment
from campaigns.web import flash_error
from campaigns.web.subscribers import bp

_FIELDS_PER_CONDITION = ("type", "field", "op", "value", "campaign_id")


@bp.route("/segments/")
def segment_list():
    """List segments with how many people each reaches now."""
    rows = db.session.scalars(select(Segment).order_by(Segment.name)).all()
    counts = {s.id: audience_count({"segment_id": s.id}) for s in rows}
    return render_template("subscribers/segments.html", segments=rows, counts=counts,
                           describe=segments.describe)


def rules_from_form(form) -> dict[str, Any]:  # noqa: ANN001 - request.form
    """Read the rules of the segment editor (rows named cond-N-type, cond-N-value...)."""
    conditions = []
    for index in sorted({int(k.split("-")[1]) for k in form if k.startswith("cond-")
                         and k.split("-")[1].isdigit()}):
        row = {name: form.get(f"cond-{index}-{name}", "") for name in _FIELDS_PER_CONDITION}
        if not row["type"] or form.get(f"cond-{index}-remove"):
            continue
        row["negate"] = form.get(f"cond-{index}-negate") == "1"
        conditions.append(row)
    return {"match": form.get("match", "all"), "conditions": conditions}


@bp.route("/segments/new", methods=["GET", "POST"])
@bp.route("/segments/<int:segment_id>", methods=["GET", "POST"])
def segment_edit(segment_id: int | None = None):
    """Create or edit a segment; "add condition" and "count" work without JavaScript."""
    segment = segments.get_segment(segment_id) if segment_id else None
    name = segment.name if segment else ""
    rules = dict(segment.rules) if segment else {"match": "all", "conditions": []}
    if request.method == "POST":
        name, rules = request.form.get("name", ""), rules_from_form(request.form)
        if request.form.get("save"):
            try:
                saved = segments.save_segment(name, rules, segment)
            except CampaignsError as exc:
                db.session.rollback()
                flash_error(exc)
            else:
                db.session.commit()
                flash(f"Segment “{saved.name}” saved.", "success")
                return redirect(url_for(".segment_edit", segment_id=saved.id))
    extra = 1 if request.form.get("add") or not rules["conditions"] else 0
    return render_template("subscribers/segment_edit.html", segment=segment, name=name,
                           rules=rules, blank_rows=extra, count=_count_or_error(rules),
                           **_choices())


def _count_or_error(rules: dict[str, Any]) -> tuple[int | None, str]:
    """Return (reachable people, "") or (None, why the rules are not valid yet)."""
    try:
        return rules_count(rules), ""
    except CampaignsError as exc:
        return None, exc.message


def _choices() -> dict[str, Any]:
    """Options for the condition pickers."""
    return {"types": segments.TYPES, "ops": segments.FIELD_OPS,
            "fields": [*segments.CORE_FIELDS, *subscribers.field_keys()],
            "tags": subscribers.tag_names(),
            "outcomes": [o.value for o in Outcome],
            "campaigns": db.session.execute(select(Campaign.id, Campaign.name)
                                            .order_by(Campaign.created_at.desc())).all()}


@bp.route("/segments/count", methods=["POST"])
def segment_count():
    """Return the live count for the rules being edited (htmx)."""
    count, problem = _count_or_error(rules_from_form(request.form))
    return render_template("subscribers/_segment_count.html", count=count, problem=problem)


@bp.route("/segments/<int:segment_id>/delete", methods=["POST"])
def segment_delete(segment_id: int):
    """Delete a segment."""
    segment = segments.get_segment(segment_id)
    segments.delete_segment(segment)
    db.session.commit()
    flash(f"Segment “{segment.name}” deleted.", "success")
    return redirect(url_for(".segment_list"))
