"""Split address headers and find addresses in text with linear-time scanners.

``email.utils.getaddresses`` recurses per nested comment and raised ``RecursionError`` on
16 KB of ``(`` here; these helpers scan once and never recurse.
"""

from __future__ import annotations

import re
from email.message import Message

from campaigns.mail.inbound.memo import remembered
from campaigns.mail.inbound.parse import clean_text, decode_words, raw_values

# Deliberately simple: a local part and a dotted domain (or an address literal).
ADDRESS = re.compile(
    r"(?<![\w.!#$%&'*+/=?^`{|}~-])"
    r"([\w!#$%&'*+/=?^`{|}~-]+(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}"
    r"[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\]))"
)
_ANGLE = re.compile(r"<\s*([^<>\s]*@[^<>\s]*?)\s*>")


def split_list(value: str) -> list[str]:
    """Split an address list at commas outside quotes, comments and angle brackets."""
    if "," not in value and ";" not in value:  # one mailbox, the common case: nothing to scan
        return [value.strip()] if value.strip() else []
    pieces, current, depth, quoted, angle, escaped = [], [], 0, False, False, False
    for ch in value:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif quoted:
            quoted = ch != '"'
        elif ch == '"' and not depth:
            quoted = True
        elif ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif ch in "<>" and not depth:
            angle = ch == "<"
        elif ch in ",;" and not (depth or angle):
            pieces.append("".join(current))
            current = []
            continue
        current.append(ch)
    pieces.append("".join(current))
    return [p for p in (x.strip() for x in pieces) if p]


def parse_address(piece: str) -> tuple[str, str]:
    """Return (display name, address as written) for one mailbox; '' when none is found.

    The case is kept: a reply token in ``reply+Tok3n@domain`` may be case-sensitive.
    """
    match = _ANGLE.search(piece)
    if match:
        address = match.group(1)
        name = piece[: match.start()] + " " + piece[match.end() :]
    else:
        found = ADDRESS.search(piece)
        address = found.group(1) if found else ""
        name = piece.replace(address, " ", 1) if found else piece
    return _clean_name(name), clean_text(address) if "@" in address else ""


def _clean_name(name: str) -> str:
    """Decode and tidy a display name: drop quotes, comment parentheses and controls."""
    name = clean_text(decode_words(name))
    name = name.strip().strip('"').strip()
    if name.startswith("(") and name.endswith(")"):
        name = name[1:-1].strip()
    return name.replace('\\"', '"')


def parse_addresses(value: str | None) -> list[tuple[str, str]]:
    """Parse an address header value into (name, address) pairs with addresses found."""
    if not value:
        return []
    pairs = (parse_address(piece) for piece in split_list(str(value)))
    return [(name, addr) for name, addr in pairs if addr]


def header_addresses(msg: Message, name: str) -> list[tuple[str, str]]:
    """Return the (name, address) pairs of every instance of an address header."""
    return list(remembered(msg, ("addresses", name.lower()), lambda: [
        pair for value in raw_values(msg, name) for pair in parse_addresses(value)][:200]))


def find_addresses(text: str) -> list[str]:
    """Return the distinct lower-cased addresses in free text, in order of appearance."""
    seen: dict[str, None] = {}
    for match in ADDRESS.finditer(text):
        seen.setdefault(match.group(1).lower().rstrip("."), None)
    return list(seen)
