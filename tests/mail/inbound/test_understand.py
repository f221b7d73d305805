"""The one entry point: what a raw message is, who sent it, and what it says."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from campaigns.mail.inbound.understand import Kind, understand


def test_a_plain_reply_is_human_with_its_new_text_and_quote(message):
    body = "Yes please!\n\nOn Mon, 3 Mar 2025 at 09:00, Sam <sam@example.com> wrote:\n> Coffee?\n"
    result = understand(message(body=body))
    assert result.kind is Kind.HUMAN
    assert result.new_text == "Yes please!"
    assert "Coffee?" in result.quoted_text
    assert result.text_body.startswith("Yes please!")


def test_the_headers_a_matcher_needs_are_read(message):
    raw = message(Delivered_To="reply+tok123@campaigns.example.com",
                  X_Original_To="reply+tok456@campaigns.example.com",
                  References="<a@x> <campaign-42.7f3a9c@campaigns.example.com>")
    result = understand(raw)
    assert result.from_address == "alex.morgan@example.org"
    assert result.from_name == "Alex Morgan"
    assert result.message_id == "reply-1@mail.example.org"
    assert result.in_reply_to == "campaign-42.7f3a9c@campaigns.example.com"
    assert result.references == ("a@x", "campaign-42.7f3a9c@campaigns.example.com")
    assert "reply+tok456@campaigns.example.com" in result.recipient_addresses
    assert result.delivered_to == ("reply+tok123@campaigns.example.com",)
    assert result.date == datetime(2025, 3, 4, 9, 30, tzinfo=UTC)


def test_an_html_only_reply_is_read_without_its_quoted_markup(message):
    html = ('<div>Count me in!</div><div class="gmail_quote">On Mon, Sam wrote:'
            '<blockquote>Coffee?</blockquote></div>')
    result = understand(message(body=html, Content_Type="text/html; charset=utf-8"))
    assert result.new_text == "Count me in!"
    assert "Coffee?" in result.text_body
    assert "blockquote" in result.html


def test_the_html_part_is_sanitised(message):
    raw = message(Content_Type="text/html", body='<p onclick="x()">Hi</p><script>1</script>')
    assert understand(raw).html == "<p>Hi</p>"


def test_garbage_bytes_are_understood_as_something(message):
    result = understand(b"\x00\xff\xfe not an email at all \r\n\r\n\x80")
    assert result.kind in (Kind.HUMAN, Kind.UNKNOWN)


def test_an_oversized_message_is_unknown_with_the_reason_recorded(message):
    result = understand(message(body="x" * (26 * 1024 * 1024)))
    assert result.kind is Kind.UNKNOWN
    assert "rejected" in result.parse_errors[0]


def test_a_broken_charset_still_yields_text(message):
    raw = message(Content_Type="text/plain; charset=no-such-charset", body="Grüße")
    assert understand(raw).new_text == "Grüße"


def test_a_base64_body_with_garbage_does_not_fail(message):
    raw = message(Content_Transfer_Encoding="base64", body="!!!not base64 at all!!!")
    assert isinstance(understand(raw).kind, Kind)


def test_a_missing_or_silly_date_is_none(message):
    assert understand(message(Date="the day after tomorrow")).date is None


def test_an_oversized_message_still_reports_its_headers_for_matching(message):
    result = understand(message(body="x" * (26 * 1024 * 1024)))
    assert result.in_reply_to == "campaign-42.7f3a9c@campaigns.example.com"
    assert result.from_address == "alex.morgan@example.org"


def test_a_base64_encoded_delivery_status_is_read(message):
    fields = (b"Reporting-MTA: dns; mx.example.net\r\n\r\nFinal-Recipient: rfc822; "
              b"lost@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n")
    body = ("--B\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n--B\r\n"
            "Content-Type: message/delivery-status\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + base64.encodebytes(fields).decode() + "--B--\r\n")
    raw = message(body=body, From="MAILER-DAEMON@mx.example.net", Subject="Undeliverable",
                  Content_Type='multipart/report; report-type=delivery-status; boundary="B"')
    result = understand(raw)
    assert result.kind is Kind.BOUNCE
    assert result.bounce.recipients == ("lost@example.net",)
    assert result.bounce.detected_by == "dsn"


def test_reply_token_addresses_keep_their_case(message):
    result = understand(message(To="Replies <reply+K7q2MZ9x@Campaigns.example.com>"))
    assert result.to == ("reply+K7q2MZ9x@Campaigns.example.com",)
