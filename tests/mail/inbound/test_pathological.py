"""Oversized and pathological input is rejected or understood in well under a second."""

from __future__ import annotations

import time

import pytest

from campaigns.mail.inbound.parse import MAX_BOUNDARY_LINES
from campaigns.mail.inbound.understand import Kind, understand

LIMIT_SECONDS = 1.0
N = 16 * 1024


def _timed(raw: bytes):
    """Understand raw bytes and return (result, CPU seconds this thread spent).

    CPU time of this thread, not wall time: the limit is about the work the input causes
    (quadratic parsing), and must not fail because other processes share the machine.
    """
    started = time.thread_time()
    result = understand(raw)
    return result, time.thread_time() - started


@pytest.mark.parametrize("header", ["To", "From", "Cc", "Subject", "Content-Type",
                                    "Message-ID", "References", "Date", "Return-Path",
                                    "X-Failed-Recipients", "Auto-Submitted"])
@pytest.mark.parametrize("value", [
    "(" * N, "(a)" * (N // 3), '"' * N, "\\" * N, "<" * N, "a " * (N // 2),
    "=?utf-8?q?a" * (N // 11), "=?" * (N // 2), ";" * N, "a@" * (N // 2), "@" * N,
])
def test_a_16_kb_pathological_header_is_understood_in_under_a_second(header, value, message):
    result, seconds = _timed(message(**{header: value}))
    assert seconds < LIMIT_SECONDS
    assert isinstance(result.kind, Kind)


def test_a_header_block_of_a_megabyte_is_rejected_quickly():
    raw = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 500) for i in range(2100)) + b"\r\nbody"
    result, seconds = _timed(raw)
    assert result.kind is Kind.UNKNOWN
    assert any("rejected" in error for error in result.parse_errors)
    assert seconds < LIMIT_SECONDS


def test_a_message_over_25_mb_is_rejected_quickly(message):
    result, seconds = _timed(message(body="x" * (26 * 1024 * 1024)))
    assert result.kind is Kind.UNKNOWN
    assert seconds < LIMIT_SECONDS


@pytest.mark.parametrize("body", [
    "a" * 2_000_000,  # one enormous line
    "\n" * 500_000,  # nothing but line breaks
    "> " * 500_000,  # one enormous quote line
    ("On Mon wrote:\n" * 50_000),
    ("Yes.\nOn Mon, 3 Mar 2025, Bob <b@example.org> wrote:\n> q\n" * 30_000),
    ("x@y " * 250_000),
    ("<b>" * 200_000),
])
def test_a_huge_body_is_understood_in_under_a_second(body, message):
    result, seconds = _timed(message(body=body))
    assert seconds < LIMIT_SECONDS
    assert isinstance(result.kind, Kind)


def test_deeply_nested_multiparts_do_not_break_understanding():
    depth, parts = 500, []
    for level in range(depth):
        parts.append(f'Content-Type: multipart/mixed; boundary="b{level}"\r\n\r\n--b{level}\r\n')
    raw = ("From: a@example.org\r\nSubject: nest\r\n" + "".join(parts)
           + "Content-Type: text/plain\r\n\r\nhello\r\n").encode()
    result, seconds = _timed(raw)
    assert seconds < LIMIT_SECONDS
    assert isinstance(result.kind, Kind)


def _many_parts(count: int, eol: str = "\r\n") -> bytes:
    """Return a message of `count` tiny text parts, its body lines ended by `eol`."""
    part = f"--B{eol}Content-Type: text/plain{eol}{eol}hi{eol}"
    return ("From: a@example.org\r\nSubject: parts\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="B"\r\n\r\n' + part * count
            + f"--B--{eol}").encode()


def test_thousands_of_parts_are_understood_in_under_a_second():
    result, seconds = _timed(_many_parts(MAX_BOUNDARY_LINES - 10))
    assert seconds < LIMIT_SECONDS
    assert result.kind is Kind.HUMAN and result.new_text.startswith("hi")


@pytest.mark.parametrize("eol", ["\r\n", "\n", "\r"])
def test_tens_of_thousands_of_parts_are_refused_before_parsing(eol):
    result, seconds = _timed(_many_parts(100_000, eol))
    assert result.kind is Kind.UNKNOWN
    assert any(e.startswith("rejected:") and "MIME parts" in e for e in result.parse_errors)
    assert result.subject == "parts"  # the headers are still read, so it can be matched
    assert seconds < LIMIT_SECONDS
