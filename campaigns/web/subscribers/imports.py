"""The import wizard: upload → column mapping with a preview → run → progress and report."""

from __future__ import annotations

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from campaigns.core import imports
from campaigns.core.export import csv_lines
from campaigns.core.imports.mapping import CORE_TARGETS, FIELD_PREFIX, describe, field_key
from campaigns.core.imports.read import SOURCE_LABELS
from campaigns.db import db
from campaigns.errors import CampaignsError, ValidationError
from campaigns.models import ImportStatus, SubscriberImport
from campaigns.web import flash_error
from campaigns.web.subscribers import bp

_DELIMITER_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "bars"}


def _get(import_id: int) -> SubscriberImport:
    imp = db.session.get(SubscriberImport, import_id)
    if imp is None:
        abort(404)
    return imp


@bp.route("/import", methods=["GET", "POST"])
def upload():
    """Step 1: upload a CSV or vCard file."""
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash("Choose a file to import.", "error")
        else:
            try:
                imp = imports.create_import(upload.read(), upload.filename,
                                            tags=[request.form.get("tags", "")],
                                            user_id=current_user.id, require_email=False)
            except CampaignsError as exc:
                flash_error(exc)
            else:
                db.session.commit()
                return redirect(url_for(".mapping", import_id=imp.id))
    return render_template("subscribers/import_upload.html")


@bp.route("/imports/")
def import_list():
    """Past imports and their reports."""
    rows = db.session.scalars(select(SubscriberImport)
                              .order_by(SubscriberImport.created_at.desc()).limit(100)).all()
    return render_template("subscribers/imports.html", imports=rows)


@bp.route("/imports/<int:import_id>/map", methods=["GET", "POST"])
def mapping(import_id: int):
    """Step 2: say what each column holds, see the first rows as they will be imported."""
    imp = _get(import_id)
    if imp.status != ImportStatus.DRAFT:
        return redirect(url_for(".import_show", import_id=imp.id))
    if request.method == "POST":
        try:
            imports.set_mapping(imp, _columns_from_form(imp), [request.form.get("tags", "")])
        except CampaignsError as exc:
            flash_error(exc)
        else:
            db.session.commit()
    return _mapping_page(imp)


def _columns_from_form(imp: SubscriberImport) -> list[str]:
    """Read the target chosen for every column ("field" means a custom field)."""
    header = imp.options.get("header", [])
    columns = []
    for index, name in enumerate(header):
        choice = request.form.get(f"column-{index}", "ignore")
        if choice == "field":
            columns.append(FIELD_PREFIX + field_key(name, index))
        elif choice in CORE_TARGETS or choice == "ignore":
            columns.append(choice)
        else:
            raise ValidationError(f"Choose what column {index + 1} holds.")
    return columns


def _mapping_page(imp: SubscriberImport):  # noqa: ANN202
    """Render the mapping step with samples and a preview."""
    try:
        rows = imports.preview(imp, 5)
    except CampaignsError as exc:
        flash_error(exc)
        return redirect(url_for(".upload"))
    header = imp.options.get("header", [])
    samples = [[(r.cells[i] if i < len(r.cells) else "") for r, _, _ in rows[:3]]
               for i in range(len(header))]
    template = "subscribers/_import_preview.html" if request.headers.get("HX-Request") \
        else "subscribers/import_map.html"
    return render_template(template, imp=imp, header=header, samples=samples, rows=rows,
                           columns=imp.options["columns"], describe=describe,
                           targets=CORE_TARGETS, delimiter_name=_DELIMITER_NAMES.get(
                               imp.options.get("delimiter", ""), ""),
                           source=SOURCE_LABELS.get(imp.options.get("source", ""), "a file"))


@bp.route("/imports/<int:import_id>/run", methods=["POST"])
def run(import_id: int):
    """Step 3: run the import (a big one goes to a worker and shows a progress bar)."""
    imp = _get(import_id)
    try:
        imports.set_mapping(imp, _columns_from_form(imp), [request.form.get("tags", "")])
        queued = imports.start_import(imp)
    except CampaignsError as exc:
        db.session.rollback()
        flash_error(exc)
        return redirect(url_for(".mapping", import_id=import_id))
    db.session.commit()
    if not queued:
        report = imports.public_report(imp)
        flash(f"Imported: {report['created']} added, {report['updated']} updated, "
              f"{report['skipped']} skipped.", "success")
    return redirect(url_for(".import_show", import_id=import_id))


@bp.route("/imports/<int:import_id>")
def import_show(import_id: int):
    """Step 4: progress while it runs, then the report."""
    imp = _get(import_id)
    if imp.status == ImportStatus.DRAFT:
        return redirect(url_for(".mapping", import_id=import_id))
    template = "subscribers/_import_progress.html" if request.headers.get("HX-Request") \
        else "subscribers/import_show.html"
    return render_template(template, imp=imp, report=imports.public_report(imp))


@bp.route("/imports/<int:import_id>/report.csv")
def import_report_csv(import_id: int):
    """Download every skipped or merged row with its line number and reason."""
    imp = _get(import_id)
    filename = f"import-{imp.id}-report.csv"
    return Response(stream_with_context(csv_lines(imports.report_rows(imp))),
                    mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
