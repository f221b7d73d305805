"""Sending to Postfix's smtp-sink: the pipelined path at volume, and the sink's fault modes."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from campaigns.core import campaigns as verbs
from campaigns.core import ledger
from campaigns.db import db
from campaigns.models import Delivery
from tests.support.campaigns import add_subscribers, make_campaign
from tests.support.postfix import SINK, start_smtp_sink
from tests.support.services import ON_CI
from tests.support.smtp import free_port


def start_sink(port: int, *flags: str, dump: Path | None = None) -> subprocess.Popen:
    """Start smtp-sink on loopback with extra flags (and a dump file of what it took)."""
    if not Path(SINK).exists():
        if ON_CI:
            pytest.fail("smtp-sink is missing (Debian package postfix)")
        pytest.skip("smtp-sink is missing (Debian package postfix)")
    return start_smtp_sink(port, *flags, dump=dump)


@pytest.fixture
def sink_port():
    return free_port()


@pytest.fixture
def app_settings(sink_port):
    return {"MAIL_URL": f"smtp://127.0.0.1:{sink_port}", "SEND_BATCH_SIZE": 50,
            "SEND_RETRY_BACKOFF": 0, "SEND_MAX_ATTEMPTS": 2}


@pytest.fixture
def sink(request, sink_port, tmp_path):
    flags = getattr(request, "param", ())
    dump = tmp_path / "sink.dump"
    process = start_sink(sink_port, *flags, dump=dump)
    yield dump
    process.kill()
    process.wait()
    shutil.rmtree(tmp_path, ignore_errors=True)


def sent_to(dump: Path) -> list[str]:
    """Return the recipients smtp-sink recorded, one per message it accepted."""
    text = dump.read_text(errors="replace") if dump.exists() else ""
    return re.findall(r"^X-Rcpt-Args: <([^>]+)>", text, flags=re.M)


def run(campaign, worker) -> dict[str, int]:  # noqa: ANN001
    verbs.start(campaign)
    db.session.commit()
    worker.drain()
    db.session.expire_all()
    return ledger.counts(campaign.id)


def test_a_campaign_goes_out_pipelined_to_smtp_sink_once_per_person(app_ctx, worker, sink):
    add_subscribers(400)
    counts = run(make_campaign(), worker)
    assert counts["sent"] == 400
    received = sent_to(sink)
    assert sorted(received) == sorted(f"person{n}@example.com" for n in range(400))


@pytest.mark.parametrize("sink", [("-r", "RCPT")], indirect=True)
def test_a_451_from_smtp_sink_is_retried_then_failed_with_its_reason(app_ctx, worker, sink):
    add_subscribers(3)
    assert run(make_campaign(), worker)["failed"] == 3
    row = db.session.scalar(select(Delivery))
    assert row.attempts == 2
    assert row.last_error == "gave up after 2 attempts: RCPT TO: 450 4.3.0 Error: command failed"


@pytest.mark.parametrize("sink", [("-f", "RCPT")], indirect=True)
def test_a_5xx_from_smtp_sink_fails_at_once_with_its_reason(app_ctx, worker, sink):
    add_subscribers(3)
    assert run(make_campaign(), worker)["failed"] == 3
    rows = db.session.scalars(select(Delivery)).all()
    assert {(r.attempts, r.last_error) for r in rows} == {
        (1, "RCPT TO: 500 5.3.0 Error: command failed")}


@pytest.mark.parametrize("sink", [("-q", ".")], indirect=True)
def test_a_line_smtp_sink_drops_after_the_data_leaves_rows_uncertain(app_ctx, worker, sink):
    add_subscribers(3)
    counts = run(make_campaign(), worker)
    assert counts["uncertain"] == 3
    rows = db.session.scalars(select(Delivery)).all()
    # Each message's data went out once; one whose envelope was cut off with the previous
    # message's connection was retried (its data had not been sent) before going out.
    assert {r.last_error for r in rows} == {
        "connection lost after the message data: Connection unexpectedly closed"}
    assert {r.attempts for r in rows} <= {1, 2}
