"""Bounces, delays, delivery notices and complaints, on fixtures written from real formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from campaigns.mail.inbound.bounce_reasons import bounce_type, reason_for
from campaigns.mail.inbound.understand import Kind, understand

BOUNCES = Path(__file__).resolve().parents[2] / "fixtures" / "bounces"
EXPECTED = json.loads((BOUNCES / "expected.json").read_text())


def _understand(name: str):
    """Understand one bounce fixture."""
    return understand((BOUNCES / name).read_bytes())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_report_fixture_gets_its_kind(name):
    assert _understand(name).kind == EXPECTED[name]["kind"]


@pytest.mark.parametrize("name", sorted(n for n, e in EXPECTED.items() if e["kind"] == "bounce"))
def test_each_bounce_names_its_failed_recipients(name):
    assert list(_understand(name).bounce.recipients) == EXPECTED[name]["recipients"]


@pytest.mark.parametrize("name", sorted(n for n, e in EXPECTED.items() if e["kind"] == "bounce"))
def test_each_bounce_is_hard_or_soft_with_its_status(name):
    bounce = _understand(name).bounce
    assert (bounce.type, bounce.status) == (EXPECTED[name]["type"], EXPECTED[name]["status"])


def test_a_delay_report_is_a_soft_bounce_that_says_it_was_delayed():
    result = _understand("gmail-delay-soft-bounce.eml")
    assert result.kind is Kind.BOUNCE
    assert (result.bounce.type, result.bounce.action) == ("soft", "delayed")
    assert result.bounce.recipients == ("slow@example.com",)


def test_a_complaint_names_who_complained():
    result = _understand("arf-abuse-complaint.eml")
    assert result.complaint.feedback_type == "abuse"
    assert result.complaint.recipients == ("annoyed@isp.example",)


def test_a_bounce_carries_the_message_id_of_the_returned_original():
    result = _understand("office365-recipient-not-found.eml")
    assert result.bounce.original_message_id == "<campaign-42.d47@campaigns.example.com>"


def test_a_human_reply_quoting_a_delivery_failure_is_not_a_bounce(message):
    body = ("Hi, my colleague's address bounced: 'User unknown'. Try her gmail instead?\n\n"
            "> 550 5.1.1 user unknown\n")
    assert understand(message(body=body)).kind is Kind.HUMAN


@pytest.mark.parametrize(("status", "text", "expected"), [
    ("5.1.1", "User unknown", "hard"),
    ("5.1.2", "Host or domain name not found", "hard"),
    ("5.1.10", "Recipient not found by SMTP address lookup", "hard"),
    ("5.2.2", "Mailbox full", "soft"),
    ("5.7.1", "blocked using zen.spamhaus.org", "soft"),
    ("4.4.7", "retry timeout exceeded", "soft"),
    ("5.2.1", "mailbox disabled, not accepting messages", "soft"),
    ("4.0.0", "DNS Error: Domain name not found", "soft"),
    ("5.0.0", "", "soft"),
])
def test_only_a_bad_address_makes_a_hard_bounce(status, text, expected):
    assert bounce_type(reason_for(status, text), status) == expected


def test_user_unknown_after_data_is_a_content_filter_not_a_bad_address():
    context = ">>> DATA\n<<< 550 Unknown user someone@example.org"
    assert reason_for("5.2.0", "550 Unknown user someone@example.org", context) == "filtered"


def test_an_acknowledgement_that_your_message_was_received_is_not_a_bounce(message):
    raw = message(From="Mail Delivery System <mailer-daemon@acme.example>",
                  Subject="Your message was received", Return_Path="<>",
                  body="Your message was received and will be answered shortly.")
    assert understand(raw).kind is not Kind.BOUNCE
