"""Storing raw inbound mail: caps before parsing, deduplication, processing after commit."""

import threading
import time

import pytest

from campaigns.core.inbound.store import dedupe_key, message_id_of, store_raw
from campaigns.db import db
from campaigns.errors import InboundError, MessageTooLarge
from campaigns.models import InboundMessage, InboundStatus
from tests.support.inbound import raw_message


def _rows():
    return db.session.scalars(db.select(InboundMessage).order_by(InboundMessage.id)).all()


def test_a_message_is_kept_byte_for_byte_before_it_is_understood(app_ctx):
    raw = raw_message("Caf\u00e9 on Tuesday?", Message_ID="<abc@x.example>")
    stored = store_raw(raw, "webhook")
    db.session.commit()
    [row] = _rows()
    assert (row.id, row.raw, row.size, row.status) == (stored.id, raw, len(raw), "stored")
    assert (row.dedupe_key, row.message_id, row.received_via) == (
        "<abc@x.example>", "abc@x.example", "webhook")
    assert row.kind is None  # nothing understood yet


def test_storing_queues_processing_only_after_the_commit(app_ctx, worker):
    stored = store_raw(raw_message(), "file")
    worker.drain()
    assert db.session.get(InboundMessage, stored.id).status == InboundStatus.STORED
    db.session.commit()
    worker.drain()
    db.session.expire_all()
    assert db.session.get(InboundMessage, stored.id).status != InboundStatus.STORED


def test_the_same_message_id_is_stored_once_whatever_the_other_bytes(app_ctx):
    first = store_raw(raw_message(Message_ID="<same@x>", Received="from a by b"), "imap")
    second = store_raw(raw_message(Message_ID="<same@x>", Received="from c by d"), "lmtp")
    db.session.commit()
    assert first.created and not second.created
    assert second.id == first.id
    assert len(_rows()) == 1


def test_a_message_without_a_message_id_is_deduplicated_by_its_content(app_ctx):
    raw = raw_message(Message_ID=None)
    first, again = store_raw(raw, "file"), store_raw(raw, "file")
    other = store_raw(raw + b"P.S.\r\n", "file")
    db.session.commit()
    assert again.id == first.id and other.id != first.id
    assert _rows()[0].dedupe_key.startswith("sha256:")


def test_a_folded_message_id_header_is_read_without_parsing_the_message():
    head = b"From: a@b\r\nMessage-ID:\r\n  <folded@example.org>\r\nSubject: x\r\n"
    assert message_id_of(head) == "folded@example.org"
    assert message_id_of(b"From: a@b\r\nX-Message-ID: <not@this>\r\n") == ""


def test_a_huge_message_id_is_keyed_by_its_hash():
    key = dedupe_key("a" * 1000 + "@x", "0" * 64)
    assert key.startswith("mid-sha256:") and len(key) < 100


def test_a_message_over_the_size_cap_is_refused_before_any_parsing(app_ctx):
    app_ctx.config["INBOUND_MAX_BYTES"] = 10_000
    with pytest.raises(MessageTooLarge, match="limit is 10000"):
        store_raw(raw_message("x" * 20_000), "webhook")
    assert _rows() == []


def test_a_header_block_over_the_cap_is_refused_in_well_under_a_second(app_ctx):
    raw = b"From: a@b\r\nX-Junk: " + b"(" * 300_000 + b"\r\n\r\nbody"
    started = time.thread_time()
    with pytest.raises(MessageTooLarge, match="header block"):
        store_raw(raw, "webhook")
    assert time.thread_time() - started < 0.1


@pytest.mark.parametrize("raw", [b"", b"   \r\n", b"<html>not mail</html>", b"\x00\x01\x02"])
def test_input_that_is_not_an_email_is_refused_with_a_clear_error(app_ctx, raw):
    with pytest.raises(InboundError) as caught:
        store_raw(raw, "webhook")
    assert caught.value.message
    assert _rows() == []


def test_the_same_message_stored_at_once_by_eight_threads_makes_one_row(app):
    raw = raw_message(Message_ID="<race@example.org>")
    results, errors = [], []
    barrier = threading.Barrier(8)

    def store():
        with app.app_context():
            try:
                barrier.wait()
                stored = store_raw(raw, "imap")
                db.session.commit()
                results.append(stored)
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=store) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len({r.id for r in results}) == 1
    assert sum(r.created for r in results) == 1
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(InboundMessage.id))) == 1


def test_a_batch_is_stored_with_twins_duplicates_and_refusals_told_apart(app_ctx, parked_jobs):
    from campaigns.core.inbound.store import store_many

    known = store_raw(raw_message("known", Message_ID="<known@x>"), "imap")
    twin = raw_message("twin", Message_ID="<twin@x>")
    outcomes = store_many([raw_message("new", Message_ID="<new@x>"), twin, b"",
                           raw_message("again", Message_ID="<known@x>"), twin], "imap")
    db.session.commit()
    new, first_twin, refused, duplicate, second_twin = outcomes
    assert new.created and first_twin.created
    assert isinstance(refused, InboundError)
    assert (duplicate.id, duplicate.created) == (known.id, False)
    assert (second_twin.id, second_twin.created) == (first_twin.id, False)
    assert len(_rows()) == 3
    assert parked_jobs[-1] == ("inbound.process", (new.id, first_twin.id))
