"""The `campaigns inbound inspect` JSON Lines contract."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from campaigns.mail.inbound.inspect import inspect_paths

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
KEYS = {"file", "kind", "bounce", "auto_reply", "new_text", "matched"}


def _lines(paths: list[str]) -> tuple[int, list[dict]]:
    """Run inspect_paths and return (exit status, parsed JSON lines)."""
    out = io.StringIO()
    status = inspect_paths(paths, out)
    return status, [json.loads(line) for line in out.getvalue().splitlines()]


def test_each_file_gives_one_record_with_the_contract_keys():
    paths = [str(FIXTURES / "bounces" / "qmail-no-mailbox.eml"),
             str(FIXTURES / "autoreplies" / "zimbra-vacation-en.eml")]
    status, records = _lines(paths)
    assert status == 0
    assert [r["file"] for r in records] == paths
    assert all(KEYS <= set(r) and r["matched"] is None for r in records)


def test_a_bounce_record_carries_recipients_type_and_status():
    _, [record] = _lines([str(FIXTURES / "bounces" / "qmail-no-mailbox.eml")])
    assert record["kind"] == "bounce"
    assert record["bounce"] == {"recipients": ["ghost@example.com"], "type": "hard",
                                "status": "5.1.1"}
    assert record["auto_reply"] is None


def test_an_auto_reply_record_carries_the_return_date():
    _, [record] = _lines([str(FIXTURES / "autoreplies" / "zimbra-vacation-en.eml")])
    assert record["auto_reply"] == {"return_date": "2025-04-04"}
    assert record["bounce"] is None


def test_an_unreadable_file_gives_an_unknown_record_and_the_rest_still_run(tmp_path):
    good = tmp_path / "good.eml"
    good.write_bytes(b"From: a@example.org\r\nSubject: hi\r\n\r\nHello!")
    status, records = _lines([str(tmp_path / "missing.eml"), str(good)])
    assert status == 1
    assert records[0]["kind"] == "unknown" and "error" in records[0]
    assert records[1]["kind"] == "human" and records[1]["new_text"] == "Hello!"


def test_the_module_runs_as_a_command(tmp_path):
    path = tmp_path / "m.eml"
    path.write_bytes(b"From: a@example.org\r\nSubject: hi\r\n\r\nHello!")
    done = subprocess.run([sys.executable, "-m", "campaigns.mail.inbound.inspect", str(path)],
                          capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parents[3])
    assert json.loads(done.stdout)["new_text"] == "Hello!"
