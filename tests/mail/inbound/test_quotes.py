"""Splitting a reply into the new text and the quoted history."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.mail.inbound.quotes import split_reply

REPLY = "Sounds great, Tuesday works."


@pytest.mark.parametrize("header", [
    "On Mon, Mar 3, 2025 at 9:00 AM Sam Lee <sam@example.com> wrote:",
    "On Mon, Mar 3, 2025 at 9:00 AM Sam Lee <\nsam@example.com> wrote:",
    "Am 03.03.2025 um 09:00 schrieb Sam Lee <sam@example.com>:",
    "Le lun. 3 mars 2025 à 09:00, Sam Lee <sam@example.com> a écrit :",
    "El lun, 3 mar 2025 a las 9:00, Sam Lee (<sam@example.com>) escribió:",
    "Op ma 3 mrt. 2025 om 09:00 schreef Sam Lee <sam@example.com>:",
    "W dniu 3.03.2025 o 09:00, Sam Lee pisze:\nnapisał:",
    "Den mån 3 mars 2025 kl 09:00 skrev Sam Lee <sam@example.com>:",
    "2025-03-03 9:00 GMT+01:00 Sam Lee <sam@example.com>:",
    "---- Sam Lee wrote ----",
    "-----Original Message-----",
    "---------- Forwarded message ---------",
])
def test_a_reply_header_ends_the_new_text(header):
    new_text, quoted = split_reply(f"{REPLY}\n\n{header}\n> Are you free next week?\n")
    assert new_text == REPLY
    assert "Are you free" in quoted


@pytest.mark.parametrize("block", [
    "From: Sam Lee <sam@example.com>\nSent: Monday, March 3, 2025 9:00 AM\nTo: Alex\n"
    "Subject: Coffee?",
    "*From:* Sam Lee <sam@example.com>\n*Sent:* Monday, March 3, 2025 9:00 AM\n*To:* Alex\n"
    "*Subject:* Coffee?",
    "Von: Sam Lee <sam@example.com>\nGesendet: Montag, 3. März 2025 09:00\nAn: Alex\n"
    "Betreff: Kaffee?",
    "De : Sam Lee <sam@example.com>\nEnvoyé : lundi 3 mars 2025 09:00\nÀ : Alex\nObjet : Café ?",
])
def test_an_outlook_header_block_ends_the_new_text_and_takes_the_rest(block):
    new_text, _ = split_reply(f"{REPLY}\n\n{block}\n\nAre you free next week?\n")
    assert new_text == REPLY


@pytest.mark.parametrize("signature", [
    "-- \nAlex Morgan\nACME", "--\nAlex", "Sent from my iPhone", "Envoyé de mon iPhone",
    "Von meinem iPhone gesendet", "Get Outlook for iOS", "__\nmailing list footer",
])
def test_a_signature_is_removed(signature):
    assert split_reply(f"{REPLY}\n\n{signature}\n")[0] == REPLY


def test_prose_that_starts_like_a_mobile_signature_is_kept():
    text = f"{REPLY}\n\nSent from my desk, which is much easier than my phone."
    assert split_reply(text)[0] == text


def test_an_answer_below_the_quote_is_the_new_text_and_the_quote_is_history():
    text = "On Mon, Mar 3, 2025 at 9:00 AM Sam <sam@example.com> wrote:\n> Free?\n\nYes, I am."
    assert split_reply(text) == ("Yes, I am.",
                                 "On Mon, Mar 3, 2025 at 9:00 AM Sam <sam@example.com> wrote:\n"
                                 "> Free?")


def test_a_sign_off_after_the_quote_is_kept():
    text = f"{REPLY}\n\nOn Mon, Mar 3, 2025, Sam <s@example.com> wrote:\n> Free?\n\nBest, Alex"
    assert split_reply(text)[0] == f"{REPLY}\n\nBest, Alex"


def test_inline_answers_keep_the_questions_they_answer():
    text = "> Tuesday?\nYes.\n> Coffee or lunch?\nLunch.\n"
    assert split_reply(text)[0] == "> Tuesday?\nYes.\n> Coffee or lunch?\nLunch."


def test_a_trailing_quote_without_a_header_is_history():
    assert split_reply(f"{REPLY}\n\n> Are you free?\n> Sam")[0] == REPLY


def test_delimiter_like_lines_inside_a_code_fence_are_kept():
    text = "Here:\n\n```\n--\n####\n```\n\nThanks"
    assert split_reply(text)[0] == text


def test_prose_mentioning_dates_is_not_a_reply_header():
    text = "We met on 3 March 2025 at 10:00.\nThe notes are attached."
    assert split_reply(text)[0] == text


def test_a_line_of_prose_with_an_address_a_date_and_a_colon_is_not_a_header():
    text = "Dear Sam: reach me at alex@example.org from 3/4:\n\nSee you."
    assert split_reply(text)[0] == text


_VERBS = ["wrote", "writes", "schrieb", "a ecrit", "escribio", "skrev", "kirjoitti", "napisal",
          "yazdi", "yazdI", "YAZDI", "egy", "napsala", "scritto"]


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=30),
       st.sampled_from(_VERBS), st.booleans(),
       st.sampled_from(["", ":", " :", " ---", ":\n", "  ", " -"]))
def test_the_ascii_fast_path_finds_a_wrote_line_exactly_as_the_case_insensitive_pattern(
        lead, verb, upper, end):
    from campaigns.mail.inbound.quotes import _WROTE, _WROTE_ASCII

    tail = (lead + " " + (verb.upper() if upper else verb) + end)[-40:]
    assert bool(_WROTE_ASCII.search(tail.lower())) == bool(_WROTE.search(tail))
