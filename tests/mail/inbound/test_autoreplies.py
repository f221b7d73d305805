"""Automatic replies in many formats and languages, and the humans who must stay human."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from campaigns.mail.inbound.understand import Kind, understand

AUTOREPLIES = Path(__file__).resolve().parents[2] / "fixtures" / "autoreplies"
EXPECTED = json.loads((AUTOREPLIES / "expected.json").read_text())


def _understand(name: str):
    """Understand one auto-reply fixture."""
    return understand((AUTOREPLIES / name).read_bytes())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_fixture_is_recognised_as_auto_reply_or_human(name):
    assert _understand(name).kind == EXPECTED[name]["kind"]


AUTO = sorted(name for name, expected in EXPECTED.items() if expected["kind"] == "auto_reply")


@pytest.mark.parametrize("name", AUTO)
def test_each_out_of_office_gives_its_return_date(name):
    returned = _understand(name).auto_reply.return_date
    expected = EXPECTED[name]["return_date"]
    assert returned == (date.fromisoformat(expected) if expected else None)


def test_an_rfc3834_header_alone_makes_an_auto_reply(message):
    raw = message(body="Thanks!", Auto_Submitted="auto-replied", Subject="Re: hi")
    assert understand(raw).kind is Kind.AUTO_REPLY


def test_auto_submitted_no_is_a_person(message):
    raw = message(body="Thanks!", Auto_Submitted="no")
    assert understand(raw).kind is Kind.HUMAN


@pytest.mark.parametrize(("name", "value"), [
    ("X-Autoreply", "yes"), ("X-Autorespond", "vacation"), ("Precedence", "auto_reply"),
    ("Precedence", "junk"), ("X-POST-MessageClass", "9; Autoresponder"),
])
def test_vendor_auto_reply_headers_make_an_auto_reply(message, name, value):
    assert understand(message(**{name.replace("-", "_"): value})).kind is Kind.AUTO_REPLY


def test_an_outlook_suppress_header_alone_does_not_make_an_auto_reply(message):
    raw = message(body="Sure, Tuesday works.", X_Auto_Response_Suppress="All")
    assert understand(raw).kind is Kind.HUMAN


def test_a_reply_subject_about_a_vacation_is_not_enough(message):
    raw = message(Subject="Re: Vacation plans?", body="I'm on vacation next week, Friday?")
    assert understand(raw).kind is Kind.HUMAN


def test_a_read_receipt_is_an_auto_reply(message):
    raw = message(Content_Type='multipart/report; report-type=disposition-notification; '
                  'boundary="R"', body="--R\r\nContent-Type: text/plain\r\n\r\nRead.\r\n--R--\r\n")
    assert understand(raw).kind is Kind.AUTO_REPLY


def test_mail_from_a_no_reply_address_is_automatic(message):
    raw = message(From="Acme Support <no-reply@acme.example>",
                  body="Your message was received. We will reply within two days.")
    assert understand(raw).kind is Kind.AUTO_REPLY


@pytest.mark.parametrize("body", [
    "This is an automatic reply. Your message has been received.",
    "This mailbox is not monitored. Please write to help@acme.example.",
    "Dies ist eine automatische Antwort.",
])
def test_a_message_that_says_it_is_automatic_is_an_auto_reply(message, body):
    assert understand(message(body=body)).kind is Kind.AUTO_REPLY


def test_absence_and_an_absence_formula_together_make_an_auto_reply(message):
    body = "I am currently away and will reply to your message when I return."
    assert understand(message(body=body)).kind is Kind.AUTO_REPLY
