"""Subscriber imports: keep the upload, map its columns, run it in chunks, report exactly.

The flow is ``create_import`` (validates the file, keeps it, guesses the mapping) →
``set_mapping`` (the UI's mapping step) → ``start_import`` (runs a small file now, queues a
big one for the ``subscribers.import`` actor) → ``run_import`` (chunks; resumable).
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from flask import current_app
from werkzeug.utils import secure_filename

from campaigns import jobs
from campaigns.core.imports.mapping import apply_overrides, auto_mapping, check_mapping
from campaigns.core.imports.plan import (
    Outcome,
    Person,
    Plan,
    person_from,
    plan_rows,
    split_tags,
)
from campaigns.core.imports.read import Record, Table, read_table
from campaigns.core.imports.upsert import upsert_people
from campaigns.db import db, utcnow
from campaigns.errors import Conflict, ValidationError
from campaigns.models import ImportStatus, SubscriberImport

__all__ = ["create_import", "import_folder", "mark_failed", "preview", "public_report",
           "report_rows", "run_import", "set_mapping", "start_import", "table_of"]
ACTOR = "subscribers.import"
PUBLIC_KEYS = ("created", "updated", "unchanged", "skipped", "merged", "total_rows", "errors",
               "duplicates")


def import_folder() -> Path:
    """Return the folder where uploaded files wait for their import."""
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def create_import(data: bytes, filename: str, *, tags: Sequence[str] = (),
                  overrides: dict[str, str] | None = None, user_id: int | None = None,
                  require_email: bool = True) -> SubscriberImport:
    """Validate an uploaded file, keep it and record a draft import with a guessed mapping."""
    table = read_table(data)
    columns = auto_mapping(table.header)
    if table.email_column is not None:
        columns[table.email_column] = "email"
    columns = apply_overrides(table.header, columns, overrides or {})
    if require_email:
        check_mapping(table.header, columns)
    total = sum(1 for _ in table.records())
    path = import_folder() / f"{secrets.token_hex(8)}-{secure_filename(filename) or 'upload'}"
    path.write_bytes(data)
    imp = SubscriberImport(
        status=ImportStatus.DRAFT, filename=filename[:300], path=str(path), total_rows=total,
        created_by_id=user_id, report={},
        options={"tags": _clean_tags(tags), "columns": columns, "header": table.header,
                 "source": table.source, "encoding": table.encoding,
                 "delimiter": table.delimiter, "header_line": table.header_line})
    db.session.add(imp)
    db.session.flush()
    return imp


def _clean_tags(tags: Sequence[str]) -> list[str]:
    """Return the distinct, non-empty tags an import adds to everyone in it."""
    return split_tags(",".join(tags))


def table_of(imp: SubscriberImport) -> Table:
    """Read the import's kept file again."""
    path = Path(imp.path)
    if not imp.path or not path.is_file():
        raise ValidationError("The uploaded file is no longer kept. Upload it again.")
    return read_table(path.read_bytes())


def set_mapping(imp: SubscriberImport, columns: Sequence[str], tags: Sequence[str]) -> None:
    """Store the mapping and tags chosen in the mapping step of a draft import."""
    if imp.status != ImportStatus.DRAFT:
        raise Conflict("This import has already started.")
    header = imp.options.get("header", [])
    if len(columns) != len(header):
        raise ValidationError("Choose what each column holds.")
    imp.options = {**imp.options, "columns": list(columns), "tags": _clean_tags(tags)}
    db.session.flush()


def preview(imp: SubscriberImport, count: int = 5) -> list[tuple[Record, Person | None,
                                                                  Outcome | None]]:
    """Return the first records with what the current mapping makes of each."""
    columns = imp.options["columns"]
    return [(record, *person_from(record, columns)) for record in table_of(imp).preview(count)]


def start_import(imp: SubscriberImport) -> bool:
    """Run a small import now or queue a big one; tell whether it was queued."""
    if imp.status != ImportStatus.DRAFT:
        raise Conflict("This import has already started.")
    check_mapping(imp.options.get("header", []), imp.options["columns"])
    imp.status = ImportStatus.RUNNING
    if imp.total_rows > current_app.config["IMPORT_INLINE_ROWS"]:
        db.session.flush()
        jobs.enqueue(ACTOR, imp.id, queue="default")
        return True
    run_import(imp)
    return False


def run_import(imp: SubscriberImport,
               on_chunk: Callable[[SubscriberImport], None] | None = None) -> dict[str, Any]:
    """Upsert the file chunk by chunk (resuming after the last chunk done); return the report."""
    plan = plan_rows(table_of(imp).records(), imp.options["columns"])
    size = current_app.config["IMPORT_CHUNK_ROWS"]
    state = dict(imp.report) if imp.report.get("chunks_done") else _fresh_state()
    detail = f"Imported from {imp.filename or 'a file'} (import #{imp.id})"
    imp.total_rows = plan.total_rows
    for index in range(state["chunks_done"], math.ceil(len(plan.people) / size)):
        result = upsert_people(plan.people[index * size:(index + 1) * size],
                               imp.options.get("tags", []), detail)
        state = _advance(state, result)
        imp.report = state
        imp.processed_rows = _processed(plan, state["chunks_done"] * size)
        db.session.flush()
        if on_chunk is not None:
            on_chunk(imp)
    imp.report = _final(plan, state)
    imp.status, imp.processed_rows, imp.finished_at = ImportStatus.DONE, plan.total_rows, utcnow()
    db.session.flush()
    return imp.report


def _fresh_state() -> dict[str, Any]:
    return {"chunks_done": 0, "created": 0, "updated": 0, "unchanged": 0, "suppressed": []}


def _advance(state: dict[str, Any], result: Any) -> dict[str, Any]:
    """Return the progress state after one more chunk (a new dict, so the JSON is saved)."""
    return {"chunks_done": state["chunks_done"] + 1,
            "created": state["created"] + result.created,
            "updated": state["updated"] + result.updated,
            "unchanged": state["unchanged"] + result.unchanged,
            "suppressed": state["suppressed"] + [_outcome_dict(o) for o in result.skipped]}


def _processed(plan: Plan, people_done: int) -> int:
    """Return how many rows of the file have their final outcome."""
    return len(plan.skipped) + len(plan.merged) + min(people_done, len(plan.people))


def _outcome_dict(outcome: Outcome) -> dict[str, Any]:
    return {"line": outcome.line, "email": outcome.email, "reason": outcome.reason}


def _final(plan: Plan, state: dict[str, Any]) -> dict[str, Any]:
    """Return the report: counts, every skipped row and every merged duplicate, by line."""
    errors = sorted([_outcome_dict(o) for o in plan.skipped] + state["suppressed"],
                    key=lambda e: e["line"])
    return {"created": state["created"], "updated": state["updated"],
            "unchanged": state["unchanged"], "skipped": len(errors),
            "merged": len(plan.merged), "total_rows": plan.total_rows, "errors": errors,
            "duplicates": [_outcome_dict(o) for o in plan.merged]}


def mark_failed(imp: SubscriberImport, message: str) -> None:
    """Record that an import stopped, and why; what its finished chunks wrote stays."""
    imp.status, imp.error, imp.finished_at = ImportStatus.FAILED, message[:2000], utcnow()
    db.session.flush()


def public_report(imp: SubscriberImport) -> dict[str, Any]:
    """Return what the API and the UI show: status, progress and the report."""
    report = imp.report or {}
    counts = {key: report.get(key, 0) for key in ("created", "updated", "unchanged")}
    errors = report.get("errors", report.get("suppressed", []))
    return {"import_id": imp.id, "status": str(imp.status), "filename": imp.filename,
            "total_rows": imp.total_rows, "processed_rows": imp.processed_rows, **counts,
            "skipped": report.get("skipped", len(errors)), "merged": report.get("merged", 0),
            "errors": errors, "duplicates": report.get("duplicates", []),
            "error": imp.error or None}


def report_rows(imp: SubscriberImport) -> Iterator[list[str | int]]:
    """Yield the report as CSV rows: every skipped or merged row with its line and reason."""
    yield ["line", "email", "outcome", "reason"]
    report = imp.report or {}
    rows = [(e, "skipped") for e in report.get("errors", [])]
    rows += [(d, "merged") for d in report.get("duplicates", [])]
    for entry, outcome in sorted(rows, key=lambda r: r[0]["line"]):
        yield [entry["line"], entry["email"], outcome, entry["reason"]]
