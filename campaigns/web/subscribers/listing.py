"""The list: search, filters, sorting, paging, bulk actions, export and adding a person."""

from __future__ import annotations

from datetime import date

from flask import Response, flash, redirect, render_template, request, stream_with_context, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, StringField
from wtforms.validators import DataRequired, Length

from campaigns.core import export, subscriber_list, subscribers, suppression
from campaigns.core.subscriber_list import ListFilter
from campaigns.db import db
from campaigns.errors import CampaignsError, ValidationError
from campaigns.models import ConsentSource, Segment, Subscriber
from campaigns.values import parse_id, parse_ids
from campaigns.web import flash_error
from campaigns.web.subscribers import bp

PAGE_SIZE = 50


class PersonForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    first_name = StringField("First name", validators=[Length(max=200)])
    last_name = StringField("Last name", validators=[Length(max=200)])
    company = StringField("Company", validators=[Length(max=200)])
    tags = StringField("Tags", validators=[Length(max=500)])


def list_filter_from(args) -> ListFilter:  # noqa: ANN001 - request.args or request.form
    """Read the list's filter from query or form values."""
    segment = args.get("segment", "")
    return ListFilter(q=args.get("q", "").strip()[:200], tag=args.get("tag", "").strip(),
                      status=args.get("status", ""),
                      segment_id=parse_id(segment))


@bp.route("/")
def index():
    """List subscribers with search, filters, sorting and keyset paging."""
    list_filter = list_filter_from(request.args)
    sort = request.args.get("sort", "newest")
    try:
        page = subscriber_list.page(list_filter, sort, after=request.args.get("after"),
                                    before=request.args.get("before"), limit=PAGE_SIZE)
        matching = subscriber_list.count(list_filter)
    except CampaignsError as exc:
        flash_error(exc)
        return redirect(url_for(".index"))
    suppressed = {email: str(reason) for email, reason in
                  suppression.reasons_among(s.email for s in page.subscribers).items()}
    keep = {k: v for k, v in {"q": list_filter.q, "tag": list_filter.tag,
                              "status": list_filter.status, "segment": list_filter.segment_id,
                              "sort": sort if sort != "newest" else ""}.items() if v}
    return render_template(
        "subscribers/index.html", page=page, matching=matching, filter=list_filter, sort=sort,
        keep=keep,
        total=db.session.scalar(select(db.func.count(Subscriber.id))) if list_filter.active
        else matching, suppressed=suppressed,
        tags=subscribers.all_tags(), sorts=subscriber_list.SORT_LABELS,
        statuses=subscriber_list.STATUSES,
        segments=db.session.scalars(select(Segment).order_by(Segment.name)).all())


@bp.route("/new", methods=["GET", "POST"])
def new():
    """Add one person by hand."""
    form = PersonForm()
    if form.validate_on_submit():
        try:
            person = subscribers.create_subscriber(
                form.email.data, source=ConsentSource.MANUAL, tags=[form.tags.data or ""],
                detail="Added by hand", first_name=form.first_name.data,
                last_name=form.last_name.data, company=form.company.data)
        except CampaignsError as exc:
            flash_error(exc)
        else:
            db.session.commit()
            flash(f"{person.email} is on the list.", "success")
            return redirect(url_for(".show", subscriber_id=person.id))
    return render_template("subscribers/new.html", form=form)


@bp.route("/bulk", methods=["POST"])
def bulk():
    """Tag, untag, export or delete the selected people (or everyone matching the filter)."""
    action = request.form.get("action", "")
    if action == "export" and request.form.get("scope") == "all":
        return _csv_response(list_filter_from(request.form).conditions(), "subscribers")
    ids = _selected_ids()
    if not ids:
        flash("Select people first (or tick “all matching”).", "error")
        return redirect(_back())
    if action == "export":
        return _csv_response([Subscriber.id.in_(ids)], "subscribers-selected")
    try:
        message = _apply(action, ids, request.form.get("bulk_tag", ""))
    except CampaignsError as exc:
        flash_error(exc)
        return redirect(_back())
    db.session.commit()
    flash(message, "success")
    return redirect(_back())


def _apply(action: str, ids: list[int], tag: str) -> str:
    """Run one bulk action; return what to tell the user."""
    if action in ("tag", "untag") and not tag.strip():
        raise ValidationError("Type the tag to add or remove.")
    if action == "tag":
        added = subscribers.add_tags(ids, [tag])
        return f"Tagged {added} {_people(added)} “{tag.strip()}”."
    if action == "untag":
        removed = subscribers.remove_tags(ids, [tag])
        return f"Removed “{tag.strip()}” from {removed} {_people(removed)}."
    if action == "delete":
        deleted = subscribers.delete_subscribers(ids)
        return f"Deleted {deleted} {_people(deleted)}."
    raise ValidationError("Choose what to do with the selection.")


def _people(count: int) -> str:
    return "person" if count == 1 else "people"


def _selected_ids() -> list[int]:
    """Return the ids ticked, or every id matching the filter when "all" was chosen."""
    if request.form.get("scope") == "all":
        return subscriber_list.matching_ids(list_filter_from(request.form))
    return parse_ids(request.form.getlist("ids"))


def _back() -> str:
    """Return to the list with the filter the bulk form carried."""
    values = {k: request.form.get(k) for k in ("q", "tag", "status", "segment", "sort")
              if request.form.get(k)}
    return url_for(".index", **values)


@bp.route("/export.csv")
def export_csv():
    """Download the people matching the filter as CSV (safe to open in a spreadsheet)."""
    try:
        conditions = list_filter_from(request.args).conditions()
    except CampaignsError as exc:
        flash_error(exc)
        return redirect(url_for(".index"))
    return _csv_response(conditions, "subscribers")


def _csv_response(conditions: list, name: str) -> Response:
    """Stream a CSV export of the subscribers matching the conditions."""
    lines = export.csv_lines(export.subscriber_rows(conditions))
    filename = f"{name}-{date.today().isoformat()}.csv"
    return Response(stream_with_context(lines), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
