"""Reading ids and numbers that arrive as text (query strings, forms, JSON) safely.

``str.isdigit`` accepts "²" and "٣", which ``int`` then refuses or reads as another number,
and an unbounded integer overflows the database's 64-bit columns: both were 500 errors.
"""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter

MAX_ID = 2**63 - 1


def parse_id(value: Any) -> int | None:
    """Return a positive 64-bit id from text or an int, or None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value <= MAX_ID else None
    text = str(value or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def parse_ids(values: list[str]) -> list[int]:
    """Return the valid ids among many (e.g. ticked checkboxes), in order, once each."""
    return list(dict.fromkeys(i for i in map(parse_id, values) if i is not None))


class BoundedIntConverter(IntegerConverter):
    """The ``<int:...>`` route converter, limited to what a database id can hold."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
