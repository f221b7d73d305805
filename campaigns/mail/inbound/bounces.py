"""Tell bounces, delays, delivery notices and spam complaints (ARF) apart, and read the
failed recipients, hard/soft type and DSN status out of them.

Order of evidence: an RFC 5965 feedback report, Amazon SES JSON notifications, an RFC 3464
delivery-status part, then ``X-Failed-Recipients`` (Exim, Gmail), then the report text
of the many non-standard formats (bounce_text.py), with flufl.bounce as the last resort
for recipients. A DSN whose recipients are only ``delayed`` is a delay report: understand()
calls it a soft bounce with action "delayed" (no person wrote it), and filing records it
without counting it towards suppression, because the server is still trying.

Cheap header checks come first: a message with no report part, no daemon sender, no
bounce subject and no null Return-Path is not decoded at all.

Why our own code: on the dev corpus (224 failure bounces) the library baseline (RFC 3464
fields + flufl.bounce, bench/inbound_library_baseline.py) detected 0.83, got the DSN
status right 0.56 and hard/soft 0.38; this module reaches 0.99, 0.98 and 0.94.
flufl.bounce returns addresses only, so it cannot tell a delay from a failure nor hard
from soft.
"""

from __future__ import annotations

from dataclasses import replace
from email.message import Message
from functools import cached_property

from campaigns.mail.inbound import bounce_text as bt
from campaigns.mail.inbound import ses
from campaigns.mail.inbound.addresses import find_addresses, header_addresses
from campaigns.mail.inbound.bounce_reasons import bounce_type, fill_status, reason_for
from campaigns.mail.inbound.dsn import (
    RecipientStatus,
    address_of,
    delivery_status,
    feedback_report,
    parse_fields,
    recipients_from_blocks,
)
from campaigns.mail.inbound.fallback import flufl_recipients
from campaigns.mail.inbound.memo import first_value
from campaigns.mail.inbound.mime import content_type, iter_parts, original_message, report_texts
from campaigns.mail.inbound.parse import safe_header
from campaigns.mail.inbound.reports import BounceInfo, ComplaintInfo, DeliveryReport, ReportKind

_NOT_COMPLAINTS = ("auth-failure", "dmarc", "not-spam")
_REPORT_TYPES = frozenset({"multipart/report", "message/delivery-status",
                           "message/global-delivery-status", "message/feedback-report",
                           "message/rfc822", "text/rfc822-headers"})


class _Evidence:
    """Views of one message that several detectors need, each computed at most once."""

    def __init__(self, msg: Message) -> None:
        self.msg = msg

    @cached_property
    def subject(self) -> str:
        return safe_header(self.msg, "Subject")

    @cached_property
    def sender(self) -> tuple[str, str]:
        name, address = (header_addresses(self.msg, "From") or [("", "")])[0]
        return (name or safe_header(self.msg, "From")), address

    @cached_property
    def part_types(self) -> set[str]:
        return {content_type(part) for part in iter_parts(self.msg)}

    @cached_property
    def text(self) -> str:
        return "\n".join(report_texts(self.msg))

    @cached_property
    def report(self) -> str:
        return bt.report_part(self.text)

    @cached_property
    def original(self) -> Message | None:
        return original_message(self.msg)

    @cached_property
    def daemon(self) -> bool:
        return bt.looks_like_daemon(self.sender[1], self.sender[0])

    @cached_property
    def bounce_subject(self) -> bool:
        return bool(bt.BOUNCE_SUBJECT.search(self.subject))

    @cached_property
    def null_sender(self) -> bool:
        return bool(first_value(self.msg, "Return-Path")) and safe_header(
            self.msg, "Return-Path").replace(" ", "") in ("<>", "")

    @cached_property
    def excluded(self) -> set[str]:
        """Addresses that are never the failed recipient: the bounce's own, the sender's."""
        own = set()
        for name in ("From", "To", "Return-Path", "Sender", "Reply-To", "Delivered-To",
                     "X-Original-To", "Envelope-To"):
            own.update(a.lower() for _, a in header_addresses(self.msg, name))
        for name in ("From", "Sender", "Return-Path", "Reply-To"):
            if self.original is not None:
                own.update(a.lower() for _, a in header_addresses(self.original, name))
        return own


def analyse_report(msg: Message) -> DeliveryReport | None:
    """Recognise a bounce, delay, delivery notice or complaint; None for anything else."""
    ev = _Evidence(msg)
    if not _worth_a_look(ev):
        return None
    report = _complaint(ev) or ses.notification(msg) or _from_dsn(ev)
    report = report or _from_failed_header(ev) or _from_text(ev)
    if report and report.bounce and not report.bounce.original_message_id:
        bounce = replace(report.bounce, original_message_id=_original_id(ev))
        report = replace(report, bounce=bounce)
    return report


def _worth_a_look(ev: _Evidence) -> bool:
    """Tell from headers and MIME structure alone whether a report is possible."""
    msg = ev.msg
    return bool(ev.part_types & _REPORT_TYPES or first_value(msg, "X-Failed-Recipients")
                or first_value(msg, "x-amz-sns-message-id") or ev.daemon or ev.bounce_subject
                or ev.null_sender)


def _complaint(ev: _Evidence) -> DeliveryReport | None:
    """Read an ARF feedback report, or None when the message is not one."""
    fields = feedback_report(ev.msg)
    if fields is None:
        if "feedback-report" not in first_value(ev.msg, "Content-Type").lower():
            return None
        fields = {}
    feedback_type = fields.get("feedback-type", "abuse").split(" ")[0].lower()
    recipients = [address_of(v) for key in ("original-rcpt-to", "removal-recipient")
                  for v in fields.get(key, "").split(" ") if "@" in v]
    if not recipients and ev.original is not None:
        recipients = [a.lower() for _, a in header_addresses(ev.original, "To")]
    info = ComplaintInfo(feedback_type, tuple(dict.fromkeys(recipients)), _original_id(ev))
    kind = ReportKind.NOTICE if feedback_type in _NOT_COMPLAINTS else ReportKind.COMPLAINT
    return DeliveryReport(kind, complaint=info)


def _from_dsn(ev: _Evidence) -> DeliveryReport | None:
    """Build a report from an RFC 3464 delivery-status part (or DSN fields in the text)."""
    statuses = delivery_status(ev.msg) or _inline_dsn_fields(ev)
    if not statuses:
        return None
    if not any(s.recipient for s in statuses):
        statuses = _with_recipients(ev, statuses)
    failed = [s for s in statuses if _action(s, ev.text) == "failed"]
    if failed:
        return DeliveryReport(ReportKind.BOUNCE, _bounce_from_statuses(failed, ev.text))
    delayed = any(_action(s, ev.text) == "delayed" for s in statuses)
    kind = ReportKind.DELAYED if delayed else ReportKind.NOTICE
    return DeliveryReport(kind, _bounce_from_statuses(statuses, ev.text, action=kind.value))


def _inline_dsn_fields(ev: _Evidence) -> list[RecipientStatus]:
    """Find DSN fields written into a plain-text report (some MTAs do not use MIME)."""
    if "recipient:" not in ev.report.lower() or not _is_machine(ev):
        return []
    blocks = recipients_from_blocks(parse_fields(ev.report))
    return [s for s in blocks if s.recipient and (s.action or s.status)]


def _with_recipients(ev: _Evidence, statuses: list[RecipientStatus]) -> list[RecipientStatus]:
    """Name the recipients of DSN blocks whose Final-Recipient is not an address."""
    found = find_addresses(safe_header(ev.msg, "X-Failed-Recipients"))
    found = found or bt.candidate_recipients(ev.report, ev.excluded)
    found = found or bt.lone_recipient(ev.report, ev.excluded)
    found = found or flufl_recipients(ev.msg) or _original_recipients(ev)
    return [replace(statuses[0], recipient=a) for a in found] or statuses


def _action(status: RecipientStatus, text: str) -> str:
    """Return the normalised action of a recipient, inferring it when absent."""
    action = status.action
    if action in ("failed", "failure", "fail", "permanent", "undeliverable"):
        return "failed"
    if action in ("delayed", "delivered", "relayed", "expanded", "deliverable"):
        return action
    if status.status.startswith("5"):
        return "failed"
    if status.status.startswith("4"):
        return "delayed" if bt.DELAY_PHRASES.search(text) else "failed"
    if status.status.startswith("2"):
        return "delivered"
    return "failed" if bt.FAILURE_PHRASES.search(text) else "delayed"


def _bounce_from_statuses(statuses: list[RecipientStatus], text: str,
                          action: str = "failed") -> BounceInfo:
    """Summarise per-recipient DSN blocks into one BounceInfo (the first recipient leads)."""
    first = statuses[0]
    context = _window(text, first.recipient)
    diagnostic = first.diagnostic or context
    said, smtp_class = bt.smtp_status(diagnostic)
    # The remote server's own code is more specific than the reporting MTA's summary.
    status = said if said and first.diagnostic else first.status or said
    reason = reason_for(status, diagnostic, context)
    if reason == "unknown" and context:
        reason = reason_for(status, context)
    status = fill_status(status, reason, smtp_class)
    recipients = tuple(dict.fromkeys(s.recipient for s in statuses if s.recipient))
    return BounceInfo(recipients, bounce_type(reason, status), status, reason, action,
                      diagnostic[:500], detected_by="dsn")


def _from_failed_header(ev: _Evidence) -> DeliveryReport | None:
    """Build a bounce from Exim's and Gmail's X-Failed-Recipients header."""
    recipients = find_addresses(safe_header(ev.msg, "X-Failed-Recipients"))
    if not recipients:
        return None
    if bt.DELAY_SUBJECT.search(ev.subject) and not bt.FAILURE_PHRASES.search(ev.report):
        return DeliveryReport(ReportKind.DELAYED)
    bounce = _bounce_from_text(ev.report, recipients, "x-failed-recipients", ev.subject)
    return DeliveryReport(ReportKind.BOUNCE, bounce)


def _from_text(ev: _Evidence) -> DeliveryReport | None:
    """Recognise a non-standard bounce from sender, subject and report phrases."""
    if not _is_machine(ev):
        return None
    delay_said = bt.DELAY_SUBJECT.search(ev.subject) or (
        bt.DELAY_PHRASES.search(ev.report) and not bt.FAILURE_PHRASES.search(ev.subject))
    if delay_said and not _final_failure(ev.report):
        return DeliveryReport(ReportKind.DELAYED)
    if bt.DELIVERED_PHRASES.search(ev.report) and not bt.FAILURE_PHRASES.search(ev.report):
        return DeliveryReport(ReportKind.NOTICE)
    recipients = bt.candidate_recipients(ev.report, ev.excluded)
    recipients = recipients or bt.lone_recipient(ev.report, ev.excluded)
    recipients = recipients or flufl_recipients(ev.msg) or _original_recipients(ev)
    bounce = _bounce_from_text(ev.report, recipients, "text", ev.subject)
    return DeliveryReport(ReportKind.BOUNCE, bounce)


def _final_failure(report: str) -> bool:
    """Tell whether a report that mentions retrying also says delivery finally failed."""
    lowered = report.lower()
    return bool(bt.FAILURE_PHRASES.search(report)) and any(
        word in lowered for word in ("gave up", "giving up", "permanent", "too long",
                                     "expired", "not going to try", "failed"))


def _is_machine(ev: _Evidence) -> bool:
    """Tell whether the message comes from delivery software and reports a failure."""
    if ev.daemon and ev.bounce_subject:
        return True
    if not (ev.daemon or ev.bounce_subject or ev.null_sender):
        return False
    return bool(bt.FAILURE_PHRASES.search(ev.report[:20000])) and (
        ev.daemon or ev.bounce_subject or ev.original is not None)


def _bounce_from_text(report: str, recipients: list[str], detected_by: str,
                      subject: str = "") -> BounceInfo:
    """Build BounceInfo from report text (and subject) and already-found recipients."""
    window = _window(report, recipients[0]) if recipients else report[:2000]
    status, smtp_class = bt.smtp_status(window)
    if not status and not smtp_class:
        status, smtp_class = bt.smtp_status(report[:20000])
    reason = reason_for(status, window)
    for fallback in (report[:20000], subject):
        reason = reason_for(status, fallback) if reason == "unknown" else reason
    if reason == "expired" and not smtp_class:
        status = status or "5.4.7"  # the software gave up: final, whatever went wrong first
    status = fill_status(status, reason, smtp_class)
    return BounceInfo(tuple(recipients), bounce_type(reason, status), status, reason,
                      diagnostic=window.strip()[:500], detected_by=detected_by)


def _window(text: str, recipient: str) -> str:
    """Return the report text from the first mention of a recipient onwards."""
    index = text.lower().find(recipient.lower()) if recipient else -1
    if index < 0:
        return text[:3000]
    return text[max(0, index - 40): index + 1500]


def _original_recipients(ev: _Evidence) -> list[str]:
    """Fall back on the To of the returned original (our messages have one recipient)."""
    if ev.original is None:
        return []
    return [a.lower() for _, a in header_addresses(ev.original, "To")][:1]


def _original_id(ev: _Evidence) -> str:
    """Return the Message-ID of the returned original message, if attached."""
    return "" if ev.original is None else safe_header(ev.original, "Message-ID")[:300]


__all__ = ["BounceInfo", "ComplaintInfo", "DeliveryReport", "ReportKind", "analyse_report"]
