"""Encoded CR/LF in headers never survive decoding (ARCHITECTURE.md invariant 5)."""

from __future__ import annotations

import base64
from email import message_from_bytes
from email.message import EmailMessage

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.mail.inbound.understand import understand


def _b(text: str) -> str:
    """Encode text as an RFC 2047 base64 encoded-word."""
    return f"=?utf-8?b?{base64.b64encode(text.encode()).decode()}?="


def _q(text: str) -> str:
    """Encode text as an RFC 2047 Q encoded-word, escaping every byte."""
    return "=?utf-8?q?" + "".join(f"={byte:02X}" for byte in text.encode()) + "?="


INJECTIONS = [
    "Hello\r\nBcc: victim@example.com",
    "Hello\nX-Injected: yes",
    "Hello\rSubject: second",
    "Hello\r\n\r\n<html>body smuggled</html>",
    "Hello\x00\u2028\u2029\x85Bcc: x@example.com",
]


def _text_values(result) -> list[str]:
    """Every decoded header-derived text value of an Understanding."""
    values = [result.subject, result.from_name, result.from_address, result.message_id,
              result.in_reply_to, *result.references, *result.to, *result.cc,
              *result.delivered_to, *result.original_to]
    return [v for v in values if isinstance(v, str)]


@pytest.mark.parametrize("payload", INJECTIONS)
@pytest.mark.parametrize("encode", [_b, _q])
def test_encoded_line_breaks_in_the_subject_are_removed(payload, encode, message):
    result = understand(message(Subject=encode(payload)))
    assert "\r" not in result.subject and "\n" not in result.subject
    assert result.subject.startswith("Hello")


@pytest.mark.parametrize("payload", INJECTIONS)
@pytest.mark.parametrize("encode", [_b, _q])
def test_encoded_line_breaks_in_display_names_are_removed(payload, encode, message):
    result = understand(message(From=f"{encode(payload)} <alex@example.org>"))
    assert result.from_address == "alex@example.org"
    assert "\r" not in result.from_name and "\n" not in result.from_name


@pytest.mark.parametrize("payload", INJECTIONS)
def test_a_reply_subject_built_from_a_decoded_subject_injects_no_header(payload, message):
    result = understand(message(Subject=_b(payload)))
    reply = EmailMessage()
    reply["Subject"] = f"Re: {result.subject}"
    reply["To"] = f"{result.from_name} <{result.from_address}>"
    reply.set_content("Thanks!")
    reparsed = message_from_bytes(reply.as_bytes())
    assert sorted(reparsed.keys()) == sorted(["Subject", "To", "Content-Type",
                                              "Content-Transfer-Encoding", "MIME-Version"])


@settings(max_examples=150, deadline=None)
@given(st.text(min_size=1, max_size=80), st.sampled_from([_b, _q]))
def test_no_decoded_header_value_ever_contains_a_line_break(message, text, encode):
    raw = message(Subject=encode(text), From=f"{encode(text)} <x@example.org>",
                        To=f"{encode(text)} <reply+t@campaigns.example.com>")
    for value in _text_values(understand(raw)):
        assert "\r" not in value and "\n" not in value
