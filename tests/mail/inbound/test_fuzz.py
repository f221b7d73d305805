"""understand() never raises, whatever bytes arrive (Hypothesis)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.mail.inbound.understand import Kind, Understanding, understand

HEADER_NAMES = ["From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To",
                "References", "Content-Type", "Content-Transfer-Encoding", "Auto-Submitted",
                "Precedence", "X-Failed-Recipients", "Return-Path", "Delivered-To",
                "X-Original-To", "Content-Disposition", "MIME-Version"]
CONTENT_TYPES = ["text/plain", "text/html", "multipart/mixed; boundary=B",
                 "multipart/report; report-type=delivery-status; boundary=B",
                 "message/delivery-status", "message/rfc822", "text/plain; charset=bogus",
                 "multipart/alternative", "text/html; charset=iso-2022-jp"]
FRAGMENTS = ["--B\r\n", "--B--\r\n", "Content-Type: message/delivery-status\r\n\r\n",
             "Final-Recipient: rfc822; x@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n",
             "On Mon, 1 Jan 2024, Bob <b@example.org> wrote:\r\n", "> quoted\r\n",
             "=?utf-8?b?4pyTIMOg?=", "=?utf-8?q?=0D=0A?=", "<blockquote>x",
             "<div class=gmail_quote>",
             "I am out of the office until 3 March.\r\n", "unsubscribe\r\n", "\x00\xff\xfe",
             "Content-Transfer-Encoding: base64\r\n\r\n!!!!\r\n", "{\"notificationType\":"]


def _check(result: Understanding) -> None:
    """Assert the invariants every result must keep."""
    assert isinstance(result, Understanding)
    assert isinstance(result.kind, Kind)
    assert isinstance(result.new_text, str) and isinstance(result.html, str)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_understand_never_raises_on_arbitrary_bytes(raw):
    _check(understand(raw))


@st.composite
def mime_like(draw) -> bytes:
    """Draw bytes shaped like a MIME message, with hostile pieces spliced in."""
    headers = draw(st.lists(st.tuples(
        st.sampled_from(HEADER_NAMES),
        st.one_of(st.sampled_from(CONTENT_TYPES), st.text(max_size=120),
                  st.sampled_from(FRAGMENTS))), max_size=12))
    body = draw(st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=200)),
                         max_size=20))
    head = "".join(f"{name}: {value}\r\n" for name, value in headers)
    return (head + "\r\n" + "".join(body)).encode("utf-8", "surrogatepass")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mime_like())
def test_understand_never_raises_on_hostile_mime(raw):
    _check(understand(raw))
