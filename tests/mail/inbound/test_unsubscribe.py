"""Written requests to be taken off the list, only when they are the gist."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.mail.inbound import quotes, unsubscribe
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


@pytest.mark.parametrize(("module", "fast", "slow"), [
    (unsubscribe, "_REQUEST_ASCII", "_REQUEST"), (quotes, "_WROTE_ASCII", "_WROTE")])
def test_an_ascii_fast_pattern_lists_every_ascii_letter_re_i_would_let_match(module, fast, slow):
    fast_pattern, slow_pattern = getattr(module, fast), getattr(module, slow)
    assert slow_pattern.flags & re.I and not fast_pattern.flags & re.I
    for letter in {c for c in slow_pattern.pattern if not c.isascii()}:
        for ascii_letter in map(chr, range(128)):
            if re.fullmatch(re.escape(letter), ascii_letter, re.I):  # ı matches i and I
                assert f"[{letter}{ascii_letter.lower()}]" in fast_pattern.pattern


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["please", "REMOVE", "me", "from", "your", "List", "Stop",
                                 "emailing", "opt-out", "Unsubscribe", "don't", "e-mail",
                                 "Abmelden", "TAKE", "off", ".", ",", "\n", "yes", "coffee"]),
                max_size=12))
def test_the_ascii_fast_path_finds_requests_where_the_case_insensitive_pattern_does(words):
    from campaigns.mail.inbound.unsubscribe import _REQUEST, _REQUEST_ASCII

    text = " ".join(words)
    assert [m.span() for m in _REQUEST_ASCII.finditer(text.lower())] == \
        [m.span() for m in _REQUEST.finditer(text)]
