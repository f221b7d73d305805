"""Print the understanding of .eml files as JSON Lines (`campaigns inbound inspect`).

The record per file follows the contract in ARCHITECTURE.md; ``matched`` is always null
here because matching needs the database. Run as ``python -m
campaigns.mail.inbound.inspect FILE...`` without the CLI.
"""

from __future__ import annotations

import json
import sys
from typing import TextIO

from campaigns.mail.inbound.understand import Kind, Understanding, understand

MAX_FILE_BYTES = 64 * 1024 * 1024  # read a little past the parse cap so it can say why


def record(path: str, result: Understanding) -> dict:
    """Build the contract's JSON record for one understood file."""
    bounce = result.bounce if result.kind is Kind.BOUNCE else None
    auto = result.auto_reply if result.kind is Kind.AUTO_REPLY else None
    return {
        "file": path,
        "kind": result.kind.value,
        "bounce": None if bounce is None else {
            "recipients": list(bounce.recipients), "type": bounce.type,
            "status": bounce.status,
        },
        "auto_reply": None if auto is None else {
            "return_date": auto.return_date.isoformat() if auto.return_date else None,
        },
        "new_text": result.new_text,
        "matched": None,
    }


def inspect_file(path: str) -> dict:
    """Understand one file; a file that cannot be read gives kind 'unknown' and an error."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return _error_record(path, f"cannot read: {exc.strerror or exc}")
    result = understand(raw)
    out = record(path, result)
    if result.parse_errors:
        out["parse_errors"] = list(result.parse_errors)
    return out


def _error_record(path: str, error: str) -> dict:
    """Return the record printed for a file that could not be understood at all."""
    return {"file": path, "kind": Kind.UNKNOWN.value, "bounce": None, "auto_reply": None,
            "new_text": "", "matched": None, "error": error}


def inspect_paths(paths: list[str], out: TextIO) -> int:
    """Print one JSON line per path; return 1 when any file could not be read, else 0."""
    status = 0
    for path in paths:
        try:
            line = inspect_file(path)
        except Exception as exc:  # noqa: BLE001 - one bad file never stops the others
            line = _error_record(path, f"internal error: {exc!r}"[:300])
        if "error" in line:
            status = 1
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
        out.flush()
    return status


if __name__ == "__main__":
    sys.exit(inspect_paths(sys.argv[1:], sys.stdout))
