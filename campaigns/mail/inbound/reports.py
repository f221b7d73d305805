"""The results of reading a machine-written report: bounce, delay, notice, complaint."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ReportKind(StrEnum):
    """What a machine-written report says about our message."""

    BOUNCE = "bounce"
    DELAYED = "delayed"
    NOTICE = "notice"  # delivered/relayed/expanded DSNs, DMARC failure reports
    COMPLAINT = "complaint"


@dataclass(frozen=True)
class BounceInfo:
    """The failed recipients of a bounce, with hard/soft type and DSN status."""

    recipients: tuple[str, ...]
    type: str  # "hard" | "soft"
    status: str  # "5.1.1"
    reason: str = "unknown"
    action: str = "failed"
    diagnostic: str = ""
    original_message_id: str = ""
    detected_by: str = ""


@dataclass(frozen=True)
class ComplaintInfo:
    """An RFC 5965 feedback report: who complained about which message."""

    feedback_type: str
    recipients: tuple[str, ...]
    original_message_id: str = ""


@dataclass(frozen=True)
class DeliveryReport:
    """A machine report recognised in an inbound message."""

    kind: ReportKind
    bounce: BounceInfo | None = None
    complaint: ComplaintInfo | None = None
