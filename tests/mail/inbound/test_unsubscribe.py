"""Written requests to be taken off the list, only when they are the gist."""

from __future__ import annotations

import pytest

from campaigns.mail.inbound.understand import Kind, understand
from campaigns.mail.inbound.unsubscribe import is_unsubscribe_request


@pytest.mark.parametrize("text", [
    "Please remove me from your list.", "unsubscribe", "UNSUBSCRIBE", "Stop emailing me.",
    "Take me off your mailing list, thanks", "Bitte austragen.", "Merci de me désinscrire.",
    "Por favor, darme de baja.", "Graag uitschrijven.", "Proszę mnie wypisać.",
    "Cancellami dalla lista, grazie.", "配信停止をお願いします。", "STOP",
    "How do I unsubscribe?", "Please remove my email from your database.",
    "Not interested. Please don't contact me again.", "Remove me please",
])
def test_a_short_request_to_stop_is_an_unsubscribe_request(text):
    assert is_unsubscribe_request(text)


@pytest.mark.parametrize("text", [
    "Sounds great, see you Tuesday!",
    "Not interested, thanks.",
    "I do not want to unsubscribe, keep them coming!",
    "How do I unsubscribe from the newsletter? Also yes to coffee on Tuesday!",
    "Sure, and please remove me from the Thursday meeting invite.",
    "Don't remove me from the list, I love these!",
    "Yes! " + "I would love to talk about the project and the timeline. " * 8 + "unsubscribe",
])
def test_other_replies_are_not_unsubscribe_requests(text):
    assert not is_unsubscribe_request(text)


def test_an_unsubscribe_link_in_the_quoted_footer_is_not_a_request(message):
    body = ("Yes, Tuesday works!\n\nOn Mon, 3 Mar 2025 at 09:00, Sam <sam@example.com> wrote:\n"
            "> Coffee next week?\n> To unsubscribe click here: https://example.com/u\n")
    assert understand(message(body=body)).kind is Kind.HUMAN


def test_an_empty_reply_with_an_unsubscribe_subject_is_a_request():
    assert is_unsubscribe_request("", "Re: Unsubscribe")


def test_a_written_request_becomes_the_unsubscribe_kind(message):
    assert understand(message(body="Please remove me from this list.")).kind is Kind.UNSUBSCRIBE
