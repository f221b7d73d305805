"""Remember what the stages of understand() read from one parsed message.

The bounce, auto-reply, unsubscribe and header stages each ask for Subject, From,
Content-Type and the like again, and ``Message.get`` scans every header field (lowering each
name) on every call: a reply's headers were looked up ~35 times and its From header parsed
three times. parse.py builds every part as a :class:`RememberingMessage`, which keeps such
values for as long as it lives; parsed messages are never changed afterwards, so nothing
goes stale. Messages built elsewhere are simply read every time.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from email import policy as policies
from email.message import Message
from typing import TypeVar

T = TypeVar("T")


class RememberingMessage(Message):
    """A parsed message (or part) with room for what has been read from it."""

    def __init__(self, policy: policies.Policy = policies.compat32) -> None:
        super().__init__(policy)
        self.remembered: dict[Hashable, object] = {}


def remembered(msg: Message, key: Hashable, compute: Callable[[], T]) -> T:
    """Return what `compute` gives for this message, computing it the first time only."""
    memo = getattr(msg, "remembered", None)
    if memo is None:
        return compute()
    try:
        return memo[key]  # type: ignore[return-value]
    except KeyError:
        value = memo[key] = compute()
        return value


def header_index(msg: Message) -> dict[str, list[str]]:
    """Return the raw values of every header field by lower-cased name, in order."""
    return remembered(msg, "header index", lambda: _index(msg))


def first_value(msg: Message, name: str) -> str:
    """Return the first raw value of a header field, '' when absent (as ``msg.get``)."""
    values = header_index(msg).get(name.lower())
    return values[0] if values else ""


def has_header(msg: Message, name: str) -> bool:
    """Tell whether a header field is present (what ``msg.get(name) is not None`` tells)."""
    return name.lower() in header_index(msg)


def _index(msg: Message) -> dict[str, list[str]]:
    """Build the header index of a message."""
    index: dict[str, list[str]] = {}
    for key, value in msg.raw_items():
        index.setdefault(key.lower(), []).append(str(value))
    return index
