"""Which column of a file holds what: recognised headers, custom fields and overrides.

A mapping is a list with one target per column: ``email``, ``first_name``, ``last_name``,
``name`` (a full name, split on import), ``company``, ``tags``, ``ignore``, or
``fields.<key>`` for a custom field.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from campaigns.errors import ValidationError

CORE_TARGETS = ("email", "first_name", "last_name", "name", "company", "tags")
TARGET_LABELS = {
    "email": "Email address", "first_name": "First name", "last_name": "Last name",
    "name": "Full name", "company": "Company", "tags": "Tags", "ignore": "Ignore",
}
FIELD_PREFIX = "fields."
_MAX_KEY = 60

# Header spellings of LinkedIn's Connections.csv (English and a few other languages), Google
# and Outlook contact exports and hand-made files, compared after normalise_header().
_ALIASES = {
    "email": {"email", "email address", "emailaddress", "mail", "email 1 value", "email 1",
              "primary email", "email primary", "work email", "personal email",
              "business email", "email addresses", "adresse email", "courriel",
              "email adresse", "correo", "correo electronico", "indirizzo email"},
    "first_name": {"first name", "firstname", "first", "given name", "givenname", "forename",
                   "prenom", "vorname", "nombre", "voornaam", "nome"},
    "last_name": {"last name", "lastname", "last", "surname", "family name", "familyname",
                  "nom", "nom de famille", "nachname", "apellido", "apellidos", "achternaam",
                  "cognome", "sobrenome"},
    "name": {"name", "full name", "fullname", "display name", "contact name", "nom complet"},
    "company": {"company", "company name", "organization", "organisation", "organization name",
                "organization 1 name", "organisation name", "employer", "entreprise", "societe",
                "firma", "unternehmen", "empresa", "bedrijf", "azienda"},
    "tags": {"tags", "tag", "labels", "group membership", "categories"},
}
_IGNORED = re.compile(r"^(email \d+ (label|type)|email type|email display name|consent status|"
                      r"consent source|created at|"
                      r"organization 1 type|phone \d+ label|address \d+ label)$")


def _ascii_folded(text: str) -> str:
    """Drop accents ("Prénom" → "Prenom"); letters without an ASCII form stay as they are."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalise_header(header: str) -> str:
    """Lower-case a header and reduce punctuation to single spaces ("E-mail" → "email")."""
    text = re.sub(r"[^0-9a-z]+", " ", _ascii_folded(header).lower()).strip()
    return re.sub(r"\be mail\b", "email", text)


def core_target(header: str) -> str | None:
    """Return the core target a header is recognised as, if any."""
    normal = normalise_header(header)
    for target, aliases in _ALIASES.items():
        if normal in aliases:
            return target
    return None


def is_email_header(header: str) -> bool:
    """Tell whether a header names the column of email addresses."""
    return core_target(header) == "email"


def field_key(header: str, index: int = 0) -> str:
    """Return the custom field key for a column header ("Connected On" → "connected_on").

    Keys are usable in templates as ``{{ fields.connected_on }}``: accents are dropped,
    Google's "E-mail 2 - Value" becomes "email_2".
    """
    key = re.sub(r"[^\w]+", "_", _ascii_folded(header.strip()).lower()).strip("_")
    key = re.sub(r"^e_mail", "email", key)
    key = re.sub(r"^(email_\d+)_(value|address)$", r"\1", key).removesuffix("_value")
    return key[:_MAX_KEY] or f"column_{index + 1}"


def auto_mapping(header: Sequence[str]) -> list[str]:
    """Guess a target for every column; unknown columns become custom fields."""
    taken: set[str] = set()
    mapping = []
    for index, name in enumerate(header):
        target = core_target(name)
        if target and target not in taken:
            taken.add(target)
            mapping.append(target)
        elif _IGNORED.match(normalise_header(name)) or not name.strip():
            mapping.append("ignore")
        else:
            mapping.append(FIELD_PREFIX + field_key(name, index))
    return _unique_fields(mapping)


def _unique_fields(mapping: list[str]) -> list[str]:
    """Give custom fields that share a key a numbered suffix (two "Phone" columns...)."""
    seen: dict[str, int] = {}
    result = []
    for target in mapping:
        if target.startswith(FIELD_PREFIX):
            seen[target] = seen.get(target, 0) + 1
            if seen[target] > 1:
                target = f"{target}_{seen[target]}"
        result.append(target)
    return result


def parse_target(text: str) -> str:
    """Return a canonical target for what a user typed ("email", "fields.title", "title")."""
    value = text.strip()
    lowered = value.lower()
    if lowered in CORE_TARGETS or lowered == "ignore":
        return lowered
    alias = core_target(value)
    if alias:
        return alias
    key = field_key(value.removeprefix(FIELD_PREFIX).removeprefix("field:"))
    if not key or key.startswith("column_"):
        raise ValidationError(f"{text!r} is not a field name.")
    return FIELD_PREFIX + key


def parse_map_options(specs: Iterable[str]) -> dict[str, str]:
    """Parse ``column=target`` options (CLI ``--map``, API ``map=``) into a dict."""
    overrides = {}
    for spec in specs:
        column, sep, target = spec.partition("=")
        if not sep or not column.strip() or not target.strip():
            raise ValidationError(f"Write a column mapping as COLUMN=FIELD, not {spec!r}.")
        overrides[column.strip()] = parse_target(target)
    return overrides


def apply_overrides(header: Sequence[str], mapping: list[str],
                    overrides: dict[str, str]) -> list[str]:
    """Return the mapping with columns (by header or 1-based number) set as the user said."""
    result = list(mapping)
    for column, target in overrides.items():
        index = _column_index(header, column)
        for other, existing in enumerate(result):  # a core target lives in one column only
            if existing == target and target in CORE_TARGETS and other != index:
                result[other] = FIELD_PREFIX + field_key(header[other], other)
        result[index] = target
    return _unique_fields(result)


def _column_index(header: Sequence[str], column: str) -> int:
    """Find a column by its header (case-insensitive) or its 1-based number."""
    for index, name in enumerate(header):
        if name.strip().lower() == column.strip().lower():
            return index
    if column.isascii() and column.isdigit() and 1 <= int(column) <= len(header):
        return int(column) - 1
    names = ", ".join(repr(h) for h in header)
    raise ValidationError(f"The file has no column {column!r}. Its columns are: {names}.")


def check_mapping(header: Sequence[str], mapping: Sequence[str]) -> None:
    """Raise ValidationError unless exactly one column holds the email addresses."""
    if mapping.count("email") == 1:
        return
    if mapping.count("email") > 1:
        raise ValidationError("Only one column can hold the email addresses.")
    names = ", ".join(repr(h) for h in header) or "none"
    raise ValidationError(
        f"The file has no email column. Its columns are: {names}. Name the column that holds "
        f"the addresses (on the command line: --map 'COLUMN=email').")


def describe(target: str) -> str:
    """Return a label for a target, for the mapping step and the preview."""
    if target.startswith(FIELD_PREFIX):
        return f"Custom field “{target.removeprefix(FIELD_PREFIX)}”"
    return TARGET_LABELS.get(target, target)
