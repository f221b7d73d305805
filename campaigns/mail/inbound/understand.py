"""One entry point: read raw inbound bytes and say what they are and what they say.

``understand`` never raises for any bytes: the raw message is already stored (invariant
4), so a parsing or classification bug must leave a record of itself in
``parse_errors`` and a usable result, not a dead worker. That is the one place where a
broad ``except Exception`` is right, and it records, it does not swallow.
"""

from __future__ import annotations

import email.utils
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from email.message import Message
from enum import StrEnum
from typing import TypeVar

from campaigns.mail.inbound.addresses import find_addresses, header_addresses
from campaigns.mail.inbound.autoreplies import AutoReplyInfo, detect_auto_reply
from campaigns.mail.inbound.bounces import analyse_report
from campaigns.mail.inbound.htmltext import html_texts
from campaigns.mail.inbound.mime import body_parts
from campaigns.mail.inbound.parse import (
    InboundParseError,
    parse_bytes,
    parse_headers_only,
    safe_header,
)
from campaigns.mail.inbound.quotes import split_reply
from campaigns.mail.inbound.reports import BounceInfo, ComplaintInfo, DeliveryReport, ReportKind
from campaigns.mail.inbound.sanitize import sanitize_html
from campaigns.mail.inbound.unsubscribe import is_unsubscribe_request

T = TypeVar("T")


class Kind(StrEnum):
    """What an inbound message is, as far as the follow-up inbox is concerned."""

    HUMAN = "human"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    UNSUBSCRIBE = "unsubscribe"
    COMPLAINT = "complaint"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Understanding:
    """Everything the inbound pipeline needs to know about one raw message."""

    kind: Kind
    bounce: BounceInfo | None = None  # also set (action "delayed") for delay reports
    complaint: ComplaintInfo | None = None
    auto_reply: AutoReplyInfo | None = None
    new_text: str = ""
    quoted_text: str = ""
    text_body: str = ""
    html: str = ""  # sanitised, remote images blocked
    subject: str = ""
    from_address: str = ""  # lower-cased, for finding the subscriber
    from_name: str = ""
    message_id: str = ""
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    to: tuple[str, ...] = ()  # recipient addresses keep their case: reply tokens may need it
    cc: tuple[str, ...] = ()
    delivered_to: tuple[str, ...] = ()
    original_to: tuple[str, ...] = ()
    date: datetime | None = None
    parse_errors: tuple[str, ...] = field(default=())

    @property
    def recipient_addresses(self) -> tuple[str, ...]:
        """Every address the message was sent to, for finding reply+TOKEN addresses."""
        all_addresses = (*self.original_to, *self.delivered_to, *self.to, *self.cc)
        return tuple(dict.fromkeys(all_addresses))


def understand(raw: bytes) -> Understanding:
    """Parse and classify one raw inbound message; never raises."""
    errors: list[str] = []
    try:
        parsed = parse_bytes(raw)
    except InboundParseError as exc:
        return _headers_only(raw, f"rejected: {exc}")
    except Exception as exc:  # noqa: BLE001 - see the module docstring
        return Understanding(Kind.UNKNOWN, parse_errors=(f"parse failed: {exc!r}",))
    errors.extend(parsed.errors)
    return _understand_message(parsed.message, errors)


def _headers_only(raw: bytes, reason: str) -> Understanding:
    """Keep what the headers of an over-sized message say, so it can still be matched."""
    errors = [reason]
    try:
        headers = _headers(parse_headers_only(raw)) if isinstance(raw, bytes) else {}
    except Exception as exc:  # noqa: BLE001 - see the module docstring
        errors.append(f"headers unreadable: {exc!r}"[:300])
        headers = {}
    return Understanding(Kind.UNKNOWN, parse_errors=tuple(errors), **headers)


def _guard(errors: list[str], what: str, default: T, fn: Callable[[], T]) -> T:
    """Run one stage; on any error record it and return the default."""
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - see the module docstring
        errors.append(f"{what} failed: {exc!r}"[:300])
        return default


def _understand_message(msg: Message, errors: list[str]) -> Understanding:
    """Build the Understanding of a parsed message."""
    headers = _guard(errors, "headers", {}, lambda: _headers(msg))
    body = _read_body(msg, errors)
    report, auto, kind = _classify(msg, body["new_text"], headers, errors)
    bounce = report.bounce if report else None
    if report is not None and report.kind is ReportKind.DELAYED:
        # The server is still trying: soft, whatever the reason says.
        bounce = replace(bounce, type="soft") if bounce else \
            BounceInfo((), "soft", "", reason="delayed", action="delayed")
    return Understanding(
        kind=kind, bounce=bounce,
        complaint=report.complaint if report else None, auto_reply=auto,
        parse_errors=tuple(errors), **body, **headers,
    )


def _read_body(msg: Message, errors: list[str]) -> dict:
    """Return the body text, the new text, the quoted history and the sanitised HTML."""
    plain, html = _guard(errors, "body", ("", ""), lambda: body_parts(msg))
    text, html_new = _guard(errors, "html to text", ("", ""), lambda: _texts(plain, html))
    new_text, quoted = _guard(errors, "quotes", (text.strip(), ""),
                              lambda: _split(text, html_new))
    clean_html = _guard(errors, "sanitise", "", lambda: sanitize_html(html)) if html else ""
    return {"new_text": new_text, "quoted_text": quoted, "text_body": text, "html": clean_html}


def _classify(msg: Message, new_text: str, headers: dict,
              errors: list[str]) -> tuple[DeliveryReport | None, AutoReplyInfo | None, Kind]:
    """Decide the kind: machine report first, then auto-reply, then unsubscribe or human."""
    report = _guard(errors, "bounce", None, lambda: analyse_report(msg))
    auto = None
    if report is None:
        sent_on = _day(headers.get("date"))
        auto = _guard(errors, "auto-reply", None,
                      lambda: detect_auto_reply(msg, new_text, sent_on))
    kind = _kind(report, auto)
    if kind is Kind.HUMAN and _guard(errors, "unsubscribe", False, lambda: is_unsubscribe_request(
            new_text, headers.get("subject", ""))):
        kind = Kind.UNSUBSCRIBE
    return report, auto, kind


def _texts(plain: str, html: str) -> tuple[str, str]:
    """Return the body text, and for HTML-only mail also its text without quoted markup."""
    if plain or not html:
        return plain, ""
    return html_texts(html)


def _split(text: str, html_new: str) -> tuple[str, str]:
    """Split the body into new text and history; HTML quotes are dropped by their markup."""
    if not html_new:
        return split_reply(text)
    return split_reply(html_new)[0], split_reply(text)[1]


def _kind(report: DeliveryReport | None, auto: AutoReplyInfo | None) -> Kind:
    """Map a report or auto-reply verdict to the inbox kind.

    A delay notice is a (soft) bounce: no person wrote it, so it stays out of the inbox,
    and its BounceInfo says action "delayed" so filing records it without suppressing.
    """
    if report is not None:
        return {ReportKind.BOUNCE: Kind.BOUNCE, ReportKind.DELAYED: Kind.BOUNCE,
                ReportKind.COMPLAINT: Kind.COMPLAINT}.get(report.kind, Kind.UNKNOWN)
    return Kind.AUTO_REPLY if auto is not None else Kind.HUMAN


def _headers(msg: Message) -> dict:
    """Read the decoded, CR/LF-free header values the Understanding carries."""
    name, address = (header_addresses(msg, "From") or [("", "")])[0]
    return {
        "subject": safe_header(msg, "Subject"),
        "from_address": address.lower(),
        "from_name": name or ("" if address else safe_header(msg, "From")),
        "message_id": first_message_id(safe_header(msg, "Message-ID")),
        "in_reply_to": first_message_id(safe_header(msg, "In-Reply-To")),
        "references": tuple(_ids(safe_header(msg, "References")))[-50:],
        "to": _addresses(msg, "To"),
        "cc": _addresses(msg, "Cc"),
        "delivered_to": _addresses(msg, "Delivered-To"),
        "original_to": _addresses(msg, "X-Original-To") + _addresses(msg, "Envelope-To"),
        "date": _date(safe_header(msg, "Date")),
    }


def _addresses(msg: Message, name: str) -> tuple[str, ...]:
    """Return the distinct addresses in every instance of a header."""
    found = [address for _, address in header_addresses(msg, name)]
    return tuple(dict.fromkeys(found))[:100]


def _ids(value: str) -> list[str]:
    """Return the <...> message ids in a header value, without brackets."""
    ids, rest = [], value
    while "<" in rest and len(ids) < 200:
        start = rest.index("<")
        end = rest.find(">", start)
        if end < 0:
            break
        if ident := rest[start + 1 : end].strip():
            ids.append(ident)
        rest = rest[end + 1 :]
    return ids


def first_message_id(value: str) -> str:
    """Return the first message id of a header, or the bare value when unbracketed."""
    ids = _ids(value)
    return ids[0] if ids else (find_addresses(value) or [value.strip()])[0][:300]


def _date(value: str) -> datetime | None:
    """Parse an RFC 5322 date, None when it is absent or nonsense."""
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value[:200])
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _day(moment: datetime | None) -> date | None:
    """Return the calendar day of a datetime, in the sender's own offset."""
    return moment.date() if moment else None
