"""Tell bounces, delays, delivery notices and spam complaints (ARF) apart, and read the
failed recipients, hard/soft type and DSN status out of them.

Order of evidence: an RFC 3464 delivery-status part, then Amazon SES JSON notifications,
then ``X-Failed-Recipients`` (Exim, Gmail), then the report text of the many
non-standard formats (bounce_text.py), with flufl.bounce as the last resort for
recipients. A DSN whose recipients are only ``delayed`` is a delay, not a bounce: the
server is still trying, so nothing may be suppressed yet.
"""

from __future__ import annotations

from dataclasses import replace
from email.message import Message

from campaigns.mail.inbound import bounce_text as bt
from campaigns.mail.inbound import ses
from campaigns.mail.inbound.addresses import find_addresses, parse_addresses
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
from campaigns.mail.inbound.mime import original_message, report_texts
from campaigns.mail.inbound.parse import safe_header
from campaigns.mail.inbound.reports import (
    BounceInfo,
    ComplaintInfo,
    DeliveryReport,
    ReportKind,
)

_NOT_COMPLAINTS = ("auth-failure", "dmarc", "not-spam")


def analyse_report(msg: Message) -> DeliveryReport | None:
    """Recognise a bounce, delay, delivery notice or complaint; None for anything else."""
    report = _complaint(msg) or ses.notification(msg) or _from_dsn(msg)
    report = report or _from_failed_header(msg) or _from_text(msg)
    if report and report.bounce and not report.bounce.original_message_id:
        report = replace(report, bounce=replace(report.bounce,
                                                original_message_id=_original_id(msg)))
    return report


def _complaint(msg: Message) -> DeliveryReport | None:
    """Read an ARF feedback report, or None when the message is not one."""
    fields = feedback_report(msg)
    if fields is None:
        if "feedback-report" not in str(msg.get("Content-Type", "")).lower():
            return None
        fields = {}
    feedback_type = fields.get("feedback-type", "abuse").split(" ")[0].lower()
    recipients = [address_of(v) for key in ("original-rcpt-to", "removal-recipient")
                  for v in fields.get(key, "").split(" ") if "@" in v]
    if not recipients and (original := original_message(msg)) is not None:
        recipients = [a for _, a in parse_addresses(str(original.get("To", "")))]
    info = ComplaintInfo(feedback_type, tuple(dict.fromkeys(recipients)), _original_id(msg))
    if feedback_type in _NOT_COMPLAINTS:
        return DeliveryReport(ReportKind.NOTICE, complaint=info)
    return DeliveryReport(ReportKind.COMPLAINT, complaint=info)


def _from_dsn(msg: Message) -> DeliveryReport | None:
    """Build a report from an RFC 3464 delivery-status part (or DSN fields in the text)."""
    statuses = delivery_status(msg)
    texts = report_texts(msg)
    if not statuses:
        statuses = _inline_dsn_fields(msg, texts)
    if not statuses:
        return None
    text = "\n".join(texts)
    if not any(s.recipient for s in statuses):
        statuses = _with_recipients(msg, statuses, text)
    failed = [s for s in statuses if _action(s, text) == "failed"]
    if failed:
        return DeliveryReport(ReportKind.BOUNCE, _bounce_from_statuses(failed, text))
    kind = ReportKind.DELAYED if any(_action(s, text) == "delayed" for s in statuses) \
        else ReportKind.NOTICE
    return DeliveryReport(kind, _bounce_from_statuses(statuses, text, action=kind.value))


def _with_recipients(msg: Message, statuses: list[RecipientStatus],
                     text: str) -> list[RecipientStatus]:
    """Name the recipients of DSN blocks whose Final-Recipient is not an address."""
    found = find_addresses(safe_header(msg, "X-Failed-Recipients"))
    found = found or bt.candidate_recipients(bt.report_part(text), _excluded(msg))
    found = found or flufl_recipients(msg) or _original_recipients(msg)
    return [replace(statuses[0], recipient=a) for a in found] or statuses


def _inline_dsn_fields(msg: Message, texts: list[str]) -> list[RecipientStatus]:
    """Find DSN fields written into a plain-text report (some MTAs do not use MIME)."""
    if not _is_machine(msg):
        return []
    text = bt.report_part("\n".join(texts))
    if "recipient:" not in text.lower():
        return []
    return [s for s in recipients_from_blocks(parse_fields(text)) if s.action or s.status]


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
    recipients = tuple(dict.fromkeys(s.recipient for s in statuses))
    return BounceInfo(recipients, bounce_type(reason, status), status, reason, action,
                      diagnostic[:500], detected_by="dsn")


def _from_failed_header(msg: Message) -> DeliveryReport | None:
    """Build a bounce from Exim's and Gmail's X-Failed-Recipients header."""
    value = safe_header(msg, "X-Failed-Recipients")
    recipients = find_addresses(value)
    if not recipients:
        return None
    text = bt.report_part("\n".join(report_texts(msg)))
    if bt.DELAY_SUBJECT.search(safe_header(msg, "Subject")) and not bt.FAILURE_PHRASES.search(
            text):
        return DeliveryReport(ReportKind.DELAYED)
    return DeliveryReport(ReportKind.BOUNCE,
                          _bounce_from_text(text, recipients, "x-failed-recipients"))


def _from_text(msg: Message) -> DeliveryReport | None:
    """Recognise a non-standard bounce from sender, subject and report phrases."""
    if not _is_machine(msg):
        return None
    text = "\n".join(report_texts(msg))
    report = bt.report_part(text)
    subject = safe_header(msg, "Subject")
    if bt.DELAY_SUBJECT.search(subject) or (bt.DELAY_PHRASES.search(report)
                                            and not bt.FAILURE_PHRASES.search(subject)):
        if not _final_failure(report):
            return DeliveryReport(ReportKind.DELAYED)
    if bt.DELIVERED_PHRASES.search(report) and not bt.FAILURE_PHRASES.search(report):
        return DeliveryReport(ReportKind.NOTICE)
    recipients = bt.candidate_recipients(report, _excluded(msg))
    if not recipients:
        recipients = flufl_recipients(msg) or _original_recipients(msg)
    return DeliveryReport(ReportKind.BOUNCE, _bounce_from_text(report, recipients, "text"))


def _final_failure(report: str) -> bool:
    """Tell whether a report that mentions retrying also says delivery finally failed."""
    return bool(bt.FAILURE_PHRASES.search(report)) and any(
        word in report.lower() for word in ("gave up", "giving up", "permanent", "too long",
                                             "expired", "not going to try", "failed"))


def _is_machine(msg: Message) -> bool:
    """Tell whether the message comes from delivery software and reports a failure."""
    name, address = (parse_addresses(str(msg.get("From", ""))) or [("", "")])[0]
    if not address:
        name = safe_header(msg, "From")
    subject = safe_header(msg, "Subject")
    daemon = bt.looks_like_daemon(address, name)
    bounce_subject = bool(bt.BOUNCE_SUBJECT.search(subject))
    if daemon and bounce_subject:
        return True
    if not (daemon or bounce_subject or _null_sender(msg)):
        return False
    text = bt.report_part("\n".join(report_texts(msg)))[:20000]
    return bool(bt.FAILURE_PHRASES.search(text)) and (
        daemon or bounce_subject or original_message(msg) is not None)


def _null_sender(msg: Message) -> bool:
    """Tell whether the envelope sender was null, as for bounces (and some auto-replies)."""
    return safe_header(msg, "Return-Path").replace(" ", "") in ("<>", "")  and bool(
        msg.get("Return-Path"))


def _bounce_from_text(report: str, recipients: list[str], detected_by: str) -> BounceInfo:
    """Build BounceInfo from report text and already-found recipients."""
    window = _window(report, recipients[0]) if recipients else report[:2000]
    status, smtp_class = bt.smtp_status(window)
    if not status and not smtp_class:
        status, smtp_class = bt.smtp_status(report[:20000])
    reason = reason_for(status, window)
    if reason == "unknown":
        reason = reason_for(status, report[:20000])
    if reason == "expired" and not smtp_class:
        status = status or "5.4.7"  # the software gave up: final, whatever went wrong first
    if not smtp_class and not status:
        smtp_class = "4" if reason == "expired" else ""
    status = fill_status(status, reason, smtp_class)
    return BounceInfo(tuple(recipients), bounce_type(reason, status), status, reason,
                      diagnostic=window.strip()[:500], detected_by=detected_by)


def _window(text: str, recipient: str) -> str:
    """Return the report text from the first mention of a recipient onwards."""
    index = text.lower().find(recipient.lower()) if recipient else -1
    if index < 0:
        return text[:3000]
    return text[max(0, index - 40): index + 1500]


def _excluded(msg: Message) -> set[str]:
    """Addresses that are never the failed recipient: the bounce's own and the sender's."""
    own = set()
    for name in ("From", "To", "Return-Path", "Sender", "Reply-To", "Delivered-To",
                 "X-Original-To", "Envelope-To"):
        own.update(a for _, a in parse_addresses(str(msg.get(name, ""))))
    original = original_message(msg)
    if original is not None:
        for name in ("From", "Sender", "Return-Path", "Reply-To"):
            own.update(a for _, a in parse_addresses(str(original.get(name, ""))))
    return own


def _original_recipients(msg: Message) -> list[str]:
    """Fall back on the To of the returned original (our messages have one recipient)."""
    original = original_message(msg)
    if original is None:
        return []
    return [a for _, a in parse_addresses(str(original.get("To", "")))][:1]


def _original_id(msg: Message) -> str:
    """Return the Message-ID of the returned original message, if attached."""
    original = original_message(msg)
    if original is None:
        return ""
    return safe_header(original, "Message-ID")[:300]

__all__ = ["BounceInfo", "ComplaintInfo", "DeliveryReport", "ReportKind", "analyse_report"]
