"""Read vCard 2.1/3.0/4.0 contacts (.vcf) as rows under a fixed header."""

from __future__ import annotations

import quopri
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from campaigns.core.imports.read import Record

HEADER = ["Email", "First Name", "Last Name", "Name", "Company", "Title", "Phone", "Note",
          "Other Emails", "Categories"]
_ESCAPES = re.compile(r"\\([\\,;nN])")


def read_cards(text: str) -> tuple[list[str], list[Record]]:
    """Return the header and one record per card, each with the line its BEGIN:VCARD is on."""
    from campaigns.core.imports.read import Record

    records = []
    card: dict[str, list[tuple[dict[str, str], str]]] | None = None
    start = 0
    for line_number, line in _unfolded(text):
        name, params, value = _split(line)
        if name == "BEGIN" and value.upper() == "VCARD":
            card, start = {}, line_number
        elif name == "END" and card is not None:
            records.append(Record(start, _row(card)))
            card = None
        elif card is not None and name:
            card.setdefault(name, []).append((params, _decode(value, params)))
    return list(HEADER), records


def _unfolded(text: str):
    """Yield (line number, logical line): folded and quoted-printable soft breaks joined."""
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        number, current = index + 1, lines[index]
        index += 1
        while index < len(lines):
            following = lines[index]
            if following[:1] in (" ", "\t"):
                current += following[1:]
            elif current.endswith("=") and "QUOTED-PRINTABLE" in current.upper().split(":")[0]:
                current = current[:-1] + following  # vCard 2.1 soft line break
            else:
                break
            index += 1
        yield number, current


def _split(line: str) -> tuple[str, dict[str, str], str]:
    """Split "item1.EMAIL;TYPE=pref:ada@example.org" into name, parameters and value."""
    head, sep, value = line.partition(":")
    if not sep:
        return "", {}, ""
    parts = head.split(";")
    name = parts[0].rsplit(".", 1)[-1].strip().upper()  # drop Apple's "item1." groups
    params: dict[str, str] = {}
    for part in parts[1:]:
        key, eq, val = part.partition("=")
        if eq:
            params[key.strip().upper()] = (params.get(key.strip().upper(), "") + "," +
                                           val.strip().strip('"')).strip(",")
        else:  # vCard 2.1 bare types: EMAIL;INTERNET;PREF
            params["TYPE"] = (params.get("TYPE", "") + "," + key.strip()).strip(",")
    return name, params, value


def _decode(value: str, params: dict[str, str]) -> str:
    """Undo quoted-printable encoding (vCard 2.1) in the declared charset."""
    if params.get("ENCODING", "").upper() == "QUOTED-PRINTABLE":
        raw = quopri.decodestring(value.encode("ascii", "replace"))
        return raw.decode(params.get("CHARSET", "utf-8"), "replace")
    return value


def _unescape(value: str) -> str:
    """Undo vCard text escapes (\\, \\; \\n)."""
    return _ESCAPES.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def _components(value: str) -> list[str]:
    """Split a structured value (N, ORG) on unescaped semicolons."""
    return [_unescape(p) for p in re.split(r"(?<!\\);", value)]


def _row(card: dict[str, list[tuple[dict[str, str], str]]]) -> list[str]:
    """Turn one card's properties into cells under HEADER."""
    emails = _emails(card.get("EMAIL", []))
    n = _components(card["N"][0][1]) + ["", ""] if "N" in card else ["", ""]
    org = _components(card["ORG"][0][1])[0] if "ORG" in card else ""
    return [emails[0] if emails else "", n[1].strip(), n[0].strip(), _first(card, "FN"), org,
            _first(card, "TITLE"), _first(card, "TEL"), _first(card, "NOTE"),
            ", ".join(emails[1:]), _first(card, "CATEGORIES")]


def _emails(entries: list[tuple[dict[str, str], str]]) -> list[str]:
    """Return the card's addresses, the preferred one first."""
    def preferred(entry: tuple[dict[str, str], str]) -> bool:
        params = entry[0]
        return "PREF" in params.get("TYPE", "").upper().split(",") or params.get("PREF") == "1"
    ordered = sorted(entries, key=lambda e: not preferred(e))
    return [_unescape(value).strip().removeprefix("mailto:") for _, value in ordered
            if value.strip()]


def _first(card: dict[str, list[tuple[dict[str, str], str]]], name: str) -> str:
    """Return the first value of a text property, unescaped."""
    values = card.get(name)
    return _unescape(values[0][1]).strip() if values else ""
