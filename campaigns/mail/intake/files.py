"""Read messages from .eml files, directories of them, mbox files and Maildirs (never
changing the source), and store them: `campaigns inbound import PATH`."""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app

from campaigns.core.inbound.store import store_many
from campaigns.db import db
from campaigns.errors import InboundError
from campaigns.models import ReceivedVia

BATCH = 100  # messages stored per INSERT and commit


@dataclass
class ImportReport:
    """What an import stored, skipped as known, and refused (with the reason)."""

    stored: list[int] = field(default_factory=list)
    duplicates: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)


def iter_messages(path: Path) -> Iterator[tuple[str, bytes]]:
    """Yield (label, raw bytes) for every message under a path."""
    if path.is_dir():
        if (path / "cur").is_dir() or (path / "new").is_dir():
            yield from _maildir(path)
        else:
            for file in sorted(p for p in path.rglob("*.eml") if p.is_file()):
                yield str(file), _read(file)
    elif _is_mbox(path):
        yield from _mbox(path)
    else:
        yield str(path), _read(path)


def _read(path: Path) -> bytes:
    """Read a file, stopping just past the size cap (store_raw then refuses it clearly)."""
    with path.open("rb") as handle:
        return handle.read(current_app.config["INBOUND_MAX_BYTES"] + 1)


def _is_mbox(path: Path) -> bool:
    """Tell whether a file is an mbox (it starts with a "From " separator line)."""
    with path.open("rb") as handle:
        return handle.read(5) == b"From "


def _maildir(path: Path) -> Iterator[tuple[str, bytes]]:
    """Yield the messages of a Maildir (new and cur), flags untouched."""
    box = mailbox.Maildir(str(path), factory=None, create=False)
    for key in sorted(box.iterkeys()):
        yield f"{path}:{key}", box.get_bytes(key)


def _mbox(path: Path) -> Iterator[tuple[str, bytes]]:
    """Yield the messages of an mbox file without its From_ lines."""
    box = mailbox.mbox(str(path), factory=None, create=False)
    try:
        for number, key in enumerate(box.iterkeys(), start=1):
            yield f"{path}#{number}", box.get_bytes(key)
    finally:
        box.close()


def import_path(path: Path) -> ImportReport:
    """Store every message under a path, a batch (one INSERT, one commit) at a time."""
    if not path.exists():
        raise InboundError(f"{path} does not exist.")
    report = ImportReport()
    batch: list[tuple[str, bytes]] = []
    for item in iter_messages(path):
        batch.append(item)
        if len(batch) == BATCH:
            _store(batch, report)
            batch = []
    _store(batch, report)
    return report


def _store(batch: list[tuple[str, bytes]], report: ImportReport) -> None:
    """Store one batch, note what happened to each message, and commit."""
    outcomes = store_many([raw for _, raw in batch], ReceivedVia.FILE)
    for (label, _), outcome in zip(batch, outcomes, strict=True):
        if isinstance(outcome, InboundError):
            report.refused.append((label, outcome.message))
        elif outcome.created:
            report.stored.append(outcome.id)
        else:
            report.duplicates += 1
    db.session.commit()
