"""Read Amazon SES bounce, complaint and delivery notifications (JSON, often inside an SNS
envelope) that arrive as email.
"""

from __future__ import annotations

import json
from email.message import Message
from typing import Any

from campaigns.mail.inbound import reports
from campaigns.mail.inbound.bounce_reasons import bounce_type, fill_status, reason_for
from campaigns.mail.inbound.memo import first_value
from campaigns.mail.inbound.mime import body_parts

MAX_JSON_CHARS = 1_000_000


def notification(msg: Message) -> reports.DeliveryReport | None:
    """Return the report an SES notification carries, or None when it is not one."""
    if "amazonses" not in first_value(msg, "Message-ID").lower() and not first_value(
            msg, "x-amz-sns-message-id"):
        return None
    data = _load(body_parts(msg)[0])
    if isinstance(data, dict) and isinstance(data.get("Message"), str):
        data = _load(data["Message"])
    if not isinstance(data, dict):
        return None
    kind = str(data.get("notificationType") or data.get("eventType") or "").lower()
    mail = data.get("mail") if isinstance(data.get("mail"), dict) else {}
    if kind == "bounce":
        return _bounce(data.get("bounce") or {}, mail)
    if kind == "complaint":
        return _complaint(data.get("complaint") or {}, mail)
    if kind == "delivery":
        return reports.DeliveryReport(reports.ReportKind.NOTICE)
    return None


def _load(text: str) -> Any:
    """Parse the JSON object in a text (SES wraps long lines, hence strict=False)."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start or end - start > MAX_JSON_CHARS:
        return None
    try:
        return json.loads(text[start : end + 1], strict=False)
    except ValueError:
        return None


def _original_id(mail: dict) -> str:
    """Return the Message-ID header of the email the notification is about.

    ``mail.messageId`` is SES's own id; the header we wrote is in ``commonHeaders`` (or the
    raw ``headers`` list when SES was asked to include them).
    """
    common = mail.get("commonHeaders")
    if isinstance(common, dict) and isinstance(common.get("messageId"), str):
        return common["messageId"][:300]
    for header in mail.get("headers") or []:
        if isinstance(header, dict) and str(header.get("name", "")).lower() == "message-id":
            return str(header.get("value", ""))[:300]
    return ""


def _bounce(data: dict, mail: dict) -> reports.DeliveryReport:
    """Build a bounce (or delay, for SES 'Transient' with no final word) from SES data."""
    rows = [r for r in data.get("bouncedRecipients") or [] if isinstance(r, dict)]
    recipients = tuple(str(r.get("emailAddress", "")).lower() for r in rows
                       if "@" in str(r.get("emailAddress", "")))
    first = rows[0] if rows else {}
    diagnostic = str(first.get("diagnosticCode", ""))
    status = str(first.get("status", ""))
    reason = reason_for(status, diagnostic)
    if reason == "unknown" and str(data.get("bounceType")) == "Permanent":
        reason = "user_unknown" if data.get("bounceSubType") == "NoEmail" else "rejected"
    status = fill_status(status, reason, "4" if data.get("bounceType") == "Transient" else "5")
    info = reports.BounceInfo(recipients, bounce_type(reason, status), status, reason,
                              diagnostic=diagnostic[:500], detected_by="ses",
                              original_message_id=_original_id(mail))
    return reports.DeliveryReport(reports.ReportKind.BOUNCE, info)


def _complaint(data: dict, mail: dict) -> reports.DeliveryReport:
    """Build a complaint report from SES data."""
    rows = [r for r in data.get("complainedRecipients") or [] if isinstance(r, dict)]
    recipients = tuple(str(r.get("emailAddress", "")).lower() for r in rows)
    info = reports.ComplaintInfo(str(data.get("complaintFeedbackType") or "abuse"), recipients,
                                 _original_id(mail))
    return reports.DeliveryReport(reports.ReportKind.COMPLAINT, complaint=info)
