"""Address validation and cell cleaning: the fast path gives email-validator's answer."""

import random

import pytest
from email_validator import EmailNotValidError, validate_email

from campaigns.core.imports.mapping import auto_mapping, field_key, parse_map_options
from campaigns.core.imports.plan import normalise_email, single_line, split_tags
from campaigns.errors import ValidationError

LOCAL_ALPHABET = "abcXYZ019!#$%&'*+/=?^_`{|}~-.é\"@ "
DOMAINS = ["example.com", "EXAMPLE.org", "sub.example.co.uk", "localhost", "example",
           "exa_mple.com", "-bad.com", "xn--bcher-kva.example", "bücher.example", "a..b.com",
           "123.456", "x.test", "mail.invalid", "a" * 64 + ".com", ("label." * 50) + "com"]


def generated_addresses(count=3000, seed=20250101):
    """Addresses from a fixed seed: plain, dotted, quoted, too long, odd domains...

    A private Random, not Hypothesis: worker threads of other tests touch the global one.
    """
    rng = random.Random(seed)
    for _ in range(count):
        alphabet = LOCAL_ALPHABET if rng.random() < 0.5 else "abcXYZ019.+-_"
        local = "".join(rng.choice(alphabet) for _ in range(rng.choice(
            [0, 1, 3, 8, 20, 63, 64, 65, 70])))
        yield f"{local}@{rng.choice(DOMAINS)}"


def ours(address):
    try:
        return normalise_email(address).email
    except EmailNotValidError:
        return None


def reference(address):
    try:
        return validate_email(address, check_deliverability=False,
                              allow_display_name=True).normalized.lower()
    except EmailNotValidError:
        return None


def test_the_fast_path_accepts_and_normalises_exactly_what_email_validator_does():
    disagreements = [a for a in generated_addresses() if ours(a) != reference(a)]
    assert disagreements == []


@pytest.mark.parametrize("address", ["Ada Lovelace <ada@example.com>", "ADA@EXAMPLE.COM",
                                     "ada@xn--bcher-kva.example", "\"a b\"@example.com"])
def test_addresses_beyond_the_fast_path_follow_email_validator(address):
    assert ours(address) == reference(address)


def test_a_display_name_written_with_the_address_is_kept():
    assert normalise_email("Ada Lovelace <Ada@Example.com>").display_name == "Ada Lovelace"


@pytest.mark.parametrize("cell, expected", [
    ("  Ada  ", "Ada"), ("Marie\r\nSalomea", "Marie Salomea"), ("a\tb", "a b"),
    ("x\x00y\x07", "xy"), ("Zoe\u0301", "Zoé"), ("one  two", "one two")])
def test_cells_become_one_clean_line(cell, expected):
    assert single_line(cell) == expected


def test_tags_split_on_commas_semicolons_and_google_separators_without_duplicates():
    assert split_tags("vip, Founders; vip ::: * myContacts ::: 2024") == ["vip", "Founders",
                                                                          "2024"]


@pytest.mark.parametrize("header, key", [
    ("Connected On", "connected_on"), ("Société", "societe"), ("E-mail 2 - Value", "email_2"),
    ("E-mail 3 Address", "email_3"), ("Phone 1 - Value", "phone_1"), ("電話", "電話"),
    ("!!!", "column_4")])
def test_column_headers_become_template_friendly_field_keys(header, key):
    assert field_key(header, 3) == key


def test_only_the_first_column_of_a_kind_gets_the_core_field():
    assert auto_mapping(["Email", "E-mail", "Name"]) == ["email", "fields.email", "name"]


@pytest.mark.parametrize("spec", ["email", "=email", "col="])
def test_a_malformed_map_option_is_refused(spec):
    with pytest.raises(ValidationError):
        parse_map_options([spec])
