"""Parsing raw bytes under caps, and decoding header values safely."""

from __future__ import annotations

import pytest

from campaigns.mail.inbound.parse import (
    MAX_FIELD_BYTES,
    InboundParseError,
    MessageTooLarge,
    clean_text,
    parse_bytes,
    safe_header,
)


def test_a_message_over_the_size_cap_is_rejected():
    with pytest.raises(MessageTooLarge):
        parse_bytes(b"Subject: x\r\n\r\n" + b"a" * 100, max_bytes=50)


def test_a_header_block_over_the_cap_is_rejected_before_parsing():
    raw = b"X-Junk: " + b"a" * 2000 + b"\r\n\r\nbody"
    with pytest.raises(MessageTooLarge):
        parse_bytes(raw, max_header_bytes=1000)


def test_a_single_oversized_header_field_is_dropped_and_reported():
    raw = (b"Subject: hello\r\nX-Huge: " + b"b" * (MAX_FIELD_BYTES + 10)
           + b"\r\nFrom: a@example.org\r\n\r\nbody")
    parsed = parse_bytes(raw)
    assert parsed.message["X-Huge"] is None
    assert parsed.message["From"] == "a@example.org"
    assert any("X-Huge" in error for error in parsed.errors)


def test_anything_but_bytes_is_a_parse_error():
    with pytest.raises(InboundParseError):
        parse_bytes("text, not bytes")  # type: ignore[arg-type]


@pytest.mark.parametrize(("raw_value", "expected"), [
    ("=?utf-8?q?Caf=C3=A9?=", "Café"),
    ("=?iso-8859-1?q?Gr=FC=DFe?=", "Grüße"),
    ("=?x-unknown?q?abc?=", "abc"),
    ("plain  text\r\n folded", "plain text folded"),
    ("=?utf-8?b?Y?=", "=?utf-8?b?Y?="),  # undecodable base64 stays as written
])
def test_header_values_are_decoded_and_unfolded(raw_value, expected):
    msg = parse_bytes(f"Subject: {raw_value}\r\n\r\nbody".encode()).message
    assert safe_header(msg, "Subject") == expected


def test_raw_utf8_bytes_in_a_header_are_read_as_utf8():
    msg = parse_bytes("Subject: Grüße aus Köln\r\n\r\nbody".encode()).message
    assert safe_header(msg, "Subject") == "Grüße aus Köln"


def test_a_missing_header_reads_as_empty_text():
    msg = parse_bytes(b"Subject: x\r\n\r\nbody").message
    assert safe_header(msg, "X-Nothing") == ""


@pytest.mark.parametrize("dangerous", ["\r\n", "\n", "\r", "\x00", "\u2028", "\u202e", "\x85"])
def test_clean_text_removes_line_breaks_and_control_characters(dangerous):
    assert clean_text(f"a{dangerous}b") == "a b"
