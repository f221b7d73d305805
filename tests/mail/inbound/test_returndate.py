"""The day an out-of-office sender is back: 'back on X' wins, else 'until X'."""

from __future__ import annotations

from datetime import date

import pytest

from campaigns.mail.inbound.returndate import return_date

SENT = date(2025, 3, 1)  # a Saturday


@pytest.mark.parametrize(("text", "expected"), [
    ("I'll be back on Monday 3rd March", date(2025, 3, 3)),
    ("I am out of the office until 14 March and back on 17 March", date(2025, 3, 17)),
    ("Out until Friday, March 14th, 2025.", date(2025, 3, 14)),
    ("I will return on March 10, 2025.", date(2025, 3, 10)),
    ("back on 2025-03-20", date(2025, 3, 20)),
    ("Ich bin bis zum 14.08. nicht im Büro.", date(2025, 8, 14)),
    ("Ab dem 18.08. bin ich wieder im Büro, bis 15.08. im Urlaub.", date(2025, 8, 18)),
    ("vom 3. bis 14. März nicht im Büro", date(2025, 3, 14)),
    ("Je suis absent jusqu'au 5 janvier.", date(2026, 1, 5)),
    ("Je serai de retour le 10 mars.", date(2025, 3, 10)),
    ("Estoy fuera de la oficina hasta el 2 de mayo.", date(2025, 5, 2)),
    ("Ik ben afwezig t/m 12 augustus.", date(2025, 8, 12)),
    ("Jestem na urlopie do 15 lipca.", date(2025, 7, 15)),
    ("Sono fuori ufficio fino al 20 agosto.", date(2025, 8, 20)),
    ("Estarei ausente até 20 de agosto.", date(2025, 8, 20)),
    ("Jag är tillbaka den 13 augusti.", date(2025, 8, 13)),
    ("8月20日まで休暇をいただいております。", date(2025, 8, 20)),
    ("8月21日(木)より出社いたします。", date(2025, 8, 21)),
    ("I'm away from 3 March to 14 March.", date(2025, 3, 14)),
    ("I'll be back on Monday", date(2025, 3, 3)),
    ("Back tomorrow.", date(2025, 3, 2)),
])
def test_return_dates_in_many_languages_and_formats(text, expected):
    assert return_date(text, SENT) == expected


@pytest.mark.parametrize("text", [
    "Thank you for your message.",
    "Our office was founded on 3 March 1999.",
    "Call me at 14.08 or 15:30.",
])
def test_a_date_without_a_back_or_until_word_is_not_a_return_date(text):
    assert return_date(text, SENT) is None


def test_a_date_without_a_year_rolls_into_next_year_when_already_past():
    assert return_date("back on 5 January", date(2024, 12, 20)) == date(2025, 1, 5)


def test_slashed_dates_take_the_nearer_reading_ahead():
    assert return_date("back on 3/4", SENT) == date(2025, 3, 4)
    assert return_date("back on 25/3", SENT) == date(2025, 3, 25)
