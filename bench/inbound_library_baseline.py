"""The "library baseline" of issue 5 as an `inbound inspect` command, for comparison.

RFC 3464 delivery-status fields and RFC 3834 / legacy auto-reply headers read with the
standard library, flufl.bounce for everything else, mail-parser-reply for the new text.
No heuristics of our own: this is what wiring existing libraries together gives.

    python bench/inbound_library_baseline.py FILE...   # one JSON line per file
"""

from __future__ import annotations

import json
import sys
from email import message_from_bytes, policy
from email.message import Message

from flufl.bounce import all_failures
from mailparser_reply import EmailReplyParser

LANGUAGES = ["en", "de", "cs", "da", "es", "fr", "it", "ja", "ko", "nl", "pl", "sv", "zh"]
PARSER = EmailReplyParser(languages=LANGUAGES)


def dsn_bounce(msg: Message) -> dict | None:
    """Read failed recipients from a message/delivery-status part, if any."""
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = [b for b in part.get_payload() if isinstance(b, Message)]
        failed = [b for b in blocks[1:] if str(b.get("Action", "")).lower().startswith("fail")]
        if not failed:
            return None
        recipients = [str(b.get("Final-Recipient", "")).split(";")[-1].strip() for b in failed]
        status = str(failed[0].get("Status", "")).split(" ")[0]
        return {"recipients": recipients, "type": "hard" if status.startswith("5") else "soft",
                "status": status}
    return None


def flufl_bounce(msg: Message) -> dict | None:
    """Ask flufl.bounce for permanent and temporary failures."""
    try:
        temporary, permanent = all_failures(msg)
    except Exception:  # noqa: BLE001 - a failing detector is "no answer" for the baseline
        return None
    found = sorted(permanent) + sorted(temporary)
    if not found:
        return None
    recipients = [a.decode("utf-8", "replace") if isinstance(a, bytes) else a for a in found]
    return {"recipients": recipients, "type": "hard" if permanent else "soft",
            "status": "5.0.0" if permanent else "4.0.0"}


def is_auto_reply(msg: Message) -> bool:
    """RFC 3834 Auto-Submitted, plus the legacy headers RFC 3834 discusses."""
    auto = str(msg.get("Auto-Submitted", "no")).lower()
    precedence = str(msg.get("Precedence", "")).lower()
    return (not auto.startswith("no") or precedence in ("auto_reply", "bulk", "junk")
            or bool(msg.get("X-Autoreply")) or bool(msg.get("X-Autorespond")))


def body_text(msg: Message) -> str:
    """Return the first text/plain part's text."""
    for part in msg.walk():
        if part.get_content_type() == "text/plain" and not part.is_multipart():
            try:
                return part.get_content()
            except (LookupError, ValueError, AssertionError):
                return part.get_payload(decode=True).decode("utf-8", "replace")
    return ""


def inspect(path: str) -> dict:
    """Build the contract's record for one file with the libraries alone."""
    record = {"file": path, "kind": "human", "bounce": None, "auto_reply": None,
              "new_text": "", "matched": None}
    with open(path, "rb") as fh:
        msg = message_from_bytes(fh.read(), policy=policy.default)
    if "feedback-report" in str(msg.get("Content-Type", "")):
        record["kind"] = "complaint"
        return record
    bounce = dsn_bounce(msg) or flufl_bounce(msg)
    if bounce:
        record.update(kind="bounce", bounce=bounce)
    elif is_auto_reply(msg):
        record.update(kind="auto_reply", auto_reply={"return_date": None})
    record["new_text"] = PARSER.parse_reply(text=body_text(msg)) or ""
    return record


def main(paths: list[str]) -> int:
    """Print one JSON line per path; a file that fails prints kind 'unknown'."""
    for path in paths:
        try:
            record = inspect(path)
        except Exception as exc:  # noqa: BLE001 - one bad file never stops the others
            record = {"file": path, "kind": "unknown", "bounce": None, "auto_reply": None,
                      "new_text": "", "matched": None, "error": repr(exc)[:200]}
        print(json.dumps(record, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
