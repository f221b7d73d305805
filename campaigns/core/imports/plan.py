"""Turn a table's records into people to upsert: validate, normalise, merge duplicates.

Everything here depends on the file alone, so it runs completely before anything is written
and gives the same answer every time (a resumed import skips the chunks already done).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

from campaigns.core.imports.mapping import FIELD_PREFIX
from campaigns.core.imports.read import Record

NAME_MAX = 200
TAG_MAX = 100
FIELD_VALUE_MAX = 2000
_SPACES = re.compile(r"\s+")
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MULTI_SPLIT = re.compile(r"\s*(?::::|;|,)\s*")
_TAG_SPLIT = re.compile(r"\s*(?::::|;|,)\s*")


@dataclass
class Person:
    """One address to upsert, with what the file says about it."""

    line: int
    email: str
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)

    def absorb(self, other: Person) -> None:
        """Merge a later row of the same address: fill blanks, add tags, keep what is set."""
        for name in ("first_name", "last_name", "company"):
            if not getattr(self, name):
                setattr(self, name, getattr(other, name))
        for key, value in other.fields.items():
            self.fields.setdefault(key, value)
        self.tags += [t for t in other.tags if t not in self.tags]


@dataclass(frozen=True)
class Outcome:
    """A row that was not imported as itself: skipped (with why) or merged into another."""

    line: int
    email: str
    reason: str


@dataclass
class Plan:
    """The people to upsert, in file order, and the rows skipped or merged on the way."""

    people: list[Person]
    skipped: list[Outcome]
    merged: list[Outcome]
    total_rows: int


def plan_rows(records: Iterable[Record], mapping: Sequence[str]) -> Plan:
    """Validate and normalise every record; merge rows that share an address."""
    people: list[Person] = []
    by_email: dict[str, Person] = {}
    skipped: list[Outcome] = []
    merged: list[Outcome] = []
    total = 0
    for record in records:
        total += 1
        person, problem = person_from(record, mapping)
        if person is None:
            skipped.append(problem)
        elif person.email in by_email:
            first = by_email[person.email]
            first.absorb(person)
            merged.append(Outcome(record.line, person.email,
                                  f"same address as line {first.line}; merged into it"))
        else:
            by_email[person.email] = person
            people.append(person)
    return Plan(people, skipped, merged, total)


def person_from(record: Record, mapping: Sequence[str]) -> tuple[Person | None, Outcome | None]:
    """Return the person a record describes, or why it is skipped."""
    if record.error:
        return None, Outcome(record.line, "", record.error)
    cells = record.cells
    if len(cells) > len(mapping) and any(c.strip() for c in cells[len(mapping):]):
        return None, Outcome(record.line, _email_cell(cells, mapping),
                             f"the row has {len(cells)} columns but the header has "
                             f"{len(mapping)} (a value with an unquoted delimiter?)")
    values = dict(_pairs(cells, mapping))
    raw_email = values.pop("email", "")
    email, others, display, problem = parse_address(raw_email)
    if problem:
        return None, Outcome(record.line, single_line(raw_email)[:320], problem)
    person = Person(record.line, email, **_names(values, display))
    person.fields = {k.removeprefix(FIELD_PREFIX): multi_line(v)[:FIELD_VALUE_MAX]
                     for k, v in values.items() if k.startswith(FIELD_PREFIX) and v.strip()}
    if others:
        person.fields.setdefault("other_emails", ", ".join(others))
    person.tags = split_tags(values.get("tags", ""))
    return person, None


def _pairs(cells: list[str], mapping: Sequence[str]):
    """Yield (target, value) for the mapped columns of a row (short rows are padded)."""
    for index, target in enumerate(mapping):
        if target != "ignore":
            yield target, cells[index] if index < len(cells) else ""


def _email_cell(cells: list[str], mapping: Sequence[str]) -> str:
    """Return the raw email cell of a row, for the report."""
    index = list(mapping).index("email") if "email" in mapping else -1
    return single_line(cells[index])[:320] if 0 <= index < len(cells) else ""


def _names(values: dict[str, str], display_name: str) -> dict[str, str]:
    """Return first name, last name and company; a full name is split when they are blank."""
    first = single_line(values.get("first_name", ""))[:NAME_MAX]
    last = single_line(values.get("last_name", ""))[:NAME_MAX]
    full = single_line(values.get("name", "")) or display_name
    if full and not first and not last:
        first, _, last = full.rpartition(" ") if " " in full else (full, "", "")
        first, last = first[:NAME_MAX], last[:NAME_MAX]
    return {"first_name": first, "last_name": last,
            "company": single_line(values.get("company", ""))[:NAME_MAX]}


def parse_address(raw: str) -> tuple[str, list[str], str, str]:
    """Return (normalised address, other addresses, display name, problem) of an email cell."""
    text = single_line(raw).strip()
    if not text:
        return "", [], "", "no email address"
    candidates = [p for p in _MULTI_SPLIT.split(text) if p]
    if len(candidates) > 1 and all("@" in p for p in candidates):
        text, others = candidates[0], candidates[1:]
    else:
        others = []
    try:
        address = normalise_email(text.removeprefix("mailto:"))
    except EmailNotValidError as exc:
        return "", [], "", f"not a valid email address: {exc}"
    return address.email, [o.lower() for o in others], address.display_name or "", ""


@dataclass(frozen=True)
class Address:
    """A validated address and the display name written with it, if any."""

    email: str
    display_name: str | None


def normalise_email(text: str) -> Address:
    """Validate an address (no DNS) and return it lower-cased; raise EmailNotValidError."""
    local, at, domain = text.rpartition("@")
    if at and text.isascii() and len(text) <= _MAX_ADDRESS and len(local) <= _MAX_LOCAL \
            and _PLAIN_LOCAL.match(local):
        return Address(f"{local.lower()}@{_domain(domain.lower())}", None)
    result = validate_email(text, check_deliverability=False, allow_display_name=True)
    return Address(result.normalized.lower(), result.display_name)


# The common case, a plain ASCII dot-atom local part (RFC 5322 atext), needs no more checks
# than this; its domain is checked by email-validator once per domain, which is where the
# time goes (a 100k-row file has a few hundred distinct domains). Anything else takes the
# full validate_email path. tests/core/test_import_plan.py holds both paths to one answer.
_PLAIN_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,64}"
                          r"(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,64})*\Z")
_MAX_ADDRESS = 254
_MAX_LOCAL = 64


@lru_cache(maxsize=65536)
def _domain(domain: str) -> str:
    """Return the normalised domain of an address, validated by email-validator (no DNS)."""
    return validate_email(f"a@{domain}", check_deliverability=False).domain


def single_line(value: str) -> str:
    """Return a cell as one line: CR/LF, tabs and runs of spaces become one space."""
    if value.isascii() and value.isprintable() and "  " not in value:
        return value.strip()  # the common case, and the import's hottest path
    cleaned = _CONTROLS.sub("", unicodedata.normalize("NFC", value))
    return _SPACES.sub(" ", cleaned).strip()


def multi_line(value: str) -> str:
    """Return a cell with its line breaks kept as LF and control characters removed."""
    if value.isascii() and value.isprintable():
        return value.strip()
    text = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROLS.sub("", text).strip()


def split_tags(value: str) -> list[str]:
    """Split a tags cell ("a, b; c" or Google's "a ::: b") into clean, distinct tags.

    Google's own labels ("* myContacts", "* starred") are not the person's tags: dropped.
    """
    tags: list[str] = []
    for part in _TAG_SPLIT.split(single_line(value)):
        tag = part.strip()[:TAG_MAX]
        if tag and not tag.startswith("* ") and tag.lower() not in (t.lower() for t in tags):
            tags.append(tag)
    return tags
