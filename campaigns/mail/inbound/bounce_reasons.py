"""Name why a delivery failed, and whether the address itself is bad (hard) or not (soft).

"Hard" follows sisimai's taxonomy, which is also what suppression wants: only a failure
that says the *address* is wrong (unknown user, unknown host, moved, a domain that
accepts no mail) is hard. A 5.x.x spam block, full mailbox or policy rejection is soft:
the address exists, so it is counted rather than suppressed at once.
"""

from __future__ import annotations

import re

HARD_REASONS = frozenset({"user_unknown", "host_unknown", "has_moved", "not_accept"})

# Ordered: the first pattern that matches the diagnostic text names the reason. Specific
# conditions come before user_unknown because servers write "5.1.1 ... disabled".
_TEXT_REASONS: list[tuple[str, tuple[str, ...]]] = [
    ("mailbox_full", (
        r"mailbox (?:is |has )?(?:full|exceeded)", r"over ?quota", r"quota (?:exceeded|full)",
        r"exceeded (?:storage|the quota|his/her quota)",
        r"insufficient (?:disk )?(?:space|storage)", r"storage (?:space|limit)",
        r"mail ?box (?:size|storage) limit", r"disk quota", r"\bfull mailbox",
        r"user(?:'s)? (?:mailbox|account) is (?:full|over)", r"too much mail",
        r"exceeds? (?:his|her|its)? ?(?:mailbox )?(?:size|quota)", r"mailfolder is full",
        r"out of (?:disk )?space on",
    )),
    ("message_too_big", (
        r"message (?:is )?too (?:big|large)", r"size (?:exceeds|limit)",
        r"exceeds? (?:the )?(?:maximum|max) (?:message )?size", r"message size exceeds",
        r"message length exceeds", r"mail size limit",
    )),
    ("suspended", (
        r"(?:mailbox|account|address|user)(?: is)? (?:has been |was )?(?:disabled|suspended|"
        r"inactive|deactivated|blocked by administrator|frozen|locked|expired)",
        r"(?:disabled|inactive|suspended|deactivated) (?:mailbox|account|user|recipient)",
        r"account.{0,20}(?:has been|is) (?:disabled|terminated|closed)", r"not active",
        r"in.?active user",
    )),
    ("has_moved", (
        r"has moved", r"address (?:has )?changed", r"no longer (?:valid|available|in use)",
        r"not (?:\w+ )?longer (?:with|at)", r"has been moved", r"forwarding address",
    )),
    ("host_unknown", (
        r"host (?:or domain )?(?:name )?(?:not found|unknown)", r"unknown host",
        r"domain (?:name )?(?:not found|does not exist|doesn't exist|unknown)",
        r"unrouteable (?:mail )?domain", r"no (?:such )?(?:domain|host)\b",
        r"name or service not known", r"(?:nx)?domain.{0,20}(?:no mx|not exist)",
        r"host not found", r"unknown domain", r"dns lookup fail", r"mx lookup fail",
        r"no mail exchanger", r"unable to route", r"domain is not reachable", r"\bnxdomain\b",
        r"domain (?:is )?invalid", r"invalid domain",
    )),
    ("rejected", (
        r"sender address rejected", r"domain of sender", r"(?:do not|don'?t|not) have permission",
        r"not (?:a )?member", r"mail from .{0,40} rejected",
    )),
    ("not_accept", (
        r"no mx record", r"does not accept (?:e-?)?mail", r"null mx",
        r"not accepting (?:any )?mail", r"accepts no mail",
    )),
    ("user_unknown", (
        r"user ?(?:name )?unknown",
        r"unknown (?:user|recipient|local.?part|address|mailbox|account|e-?mail)",
        r"no such (?:user|recipient|mailbox|account|address|person|local user)",
        r"(?:user|recipient|mailbox|account|address|addressee)(?: name)?(?: is| was)? "
        r"(?:not found|unknown|not known|invalid|unavailable|does not exist|doesn'?t exist|"
        r"not (?:valid|exist|listed|recogni[sz]ed))",
        r"does not exist", r"doesn'?t exist", r"not exist", r"no mailbox",
        r"invalid (?:recipient|mailbox|address|user|e-?mail)",
        r"invalid (?:final )?(?:delivery )?userid", r"check if (?:the )?address is correct",
        r"not (?:a )?valid (?:recipient|mailbox|user|username|address)", r"unrouteable address",
        r"not our customer", r"undeliverable address", r"recipient not found",
        r"no valid recipients", r"bad (?:destination )?(?:mailbox|recipient)", r"is not a valid",
        r"unknown or illegal alias", r"not listed in", r"name is not recognized",
        r"address (?:lookup|unknown|not (?:found|recognized))", r"recipnotfound",
        r"account (?:that you tried to reach )?(?:does not|doesn't) exist", r"no mailbox here",
        r"mailbox unavailable", r"user doesn't have",
        r"recipient address rejected: access denied", r"invalid (?:address|addressee)",
        r"user (?:not|isn't) (?:found|here|local)", r"address not present",
    )),
    ("spam_detected", (
        r"\bspam\b", r"junk mail", r"bulk mail", r"unsolicited", r"content .{0,20}rejected",
    )),
    ("auth_failure", (
        r"\bdmarc\b", r"\bspf\b", r"\bdkim\b", r"authenticat",
    )),
    ("require_ptr", (
        r"reverse (?:dns|lookup)", r"\bptr\b", r"rdns",
    )),
    ("blocked", (
        r"block(?:ed|list)", r"black ?list", r"\brbl\b", r"\bdnsbl\b", r"reputation", r"banned",
        r"spamhaus", r"listed (?:at|on|in)",
    )),
    ("no_relaying", (
        r"relay(?:ing)? (?:access )?(?:denied|not permitted|not allowed)",
        r"(?:not permitted|not configured|not allowed) to relay", r"unable to relay",
        r"relay not permitted",
    )),
    ("expired", (
        r"(?:retry|queue|delivery) (?:time ?out|timeout|period exceeded|expired)",
        r"too long in the queue", r"in the queue too long", r"gave up", r"giving up",
        r"could not be delivered within", r"expired", r"no longer trying", r"message timed out",
    )),
    ("network_error", (
        r"connection (?:refused|timed out|reset)", r"timed out", r"network", r"could not connect",
        r"unable to connect", r"no route to host", r"routing loop", r"mail loop",
        r"too many hops", r"loops? back",
    )),
    ("system_error", (
        r"system (?:error|failure)", r"internal error", r"temporar", r"local error",
        r"server error", r"try again later", r"service unavailable",
    )),
    ("rejected", (
        r"reject", r"refused", r"\bdenied\b", r"not allowed", r"not authori[sz]ed",
        r"not permitted", r"policy",
    )),
]
# Lower-case patterns over lowered text: re.I over these alternations is ~3x slower.
_COMPILED = [(name, re.compile("|".join(alts))) for name, alts in _TEXT_REASONS]

_STATUS_REASONS = {
    "1.1": "user_unknown", "1.0": "user_unknown", "1.3": "user_unknown",
    "1.2": "host_unknown", "1.6": "has_moved", "1.10": "not_accept",
    "2.1": "suspended", "2.2": "mailbox_full", "2.3": "message_too_big",
    "3.1": "system_full", "3.4": "message_too_big", "3.2": "not_accept",
    "4.4": "host_unknown", "4.7": "expired", "4.6": "network_error",
    "4.1": "network_error", "4.2": "network_error",
    "5.3": "too_many_recipients", "6.0": "content_error", "6.1": "content_error",
    "7.0": "security_error", "7.1": "rejected", "7.25": "require_ptr",
    "7.26": "auth_failure", "7.27": "not_accept", "7.23": "auth_failure",
    "7.7": "security_error", "7.9": "security_error",
}
# When only a reason is known, the code a server would most likely have written.
REASON_STATUS = {
    "user_unknown": "5.1.1", "host_unknown": "5.1.2", "has_moved": "5.1.6",
    "not_accept": "5.1.10", "mailbox_full": "5.2.2", "message_too_big": "5.3.4",
    "suspended": "5.2.1", "expired": "5.4.7",
}


def reason_for(status: str, text: str, context: str = "") -> str:
    """Name the failure reason from the status code, the diagnostic text and its context."""
    by_status = _STATUS_REASONS.get(status.split(".", 1)[1], "") if status.count(".") == 2 else ""
    lowered = text[:20000].lower()
    by_text = next((name for name, rx in _COMPILED if rx.search(lowered)), "") if text else ""
    reason = _combine(by_status, by_text)
    if reason == "user_unknown" and (status[1:4] == ".7." or failed_at_data(context or text)):
        return "filtered"  # refused by policy or after DATA: the address itself may exist
    if reason == "host_unknown" and status.startswith("4"):
        return "network_error"  # a temporary DNS failure proves nothing about the domain
    return reason


def _combine(by_status: str, by_text: str) -> str:
    """Choose between the reason the status code gives and the one the text gives."""
    if by_status in ("user_unknown", "host_unknown") and by_text in _GENERIC_TEXT:
        return by_status  # the precise code beats a vague "rejected"/"denied" in the text
    if by_status in ("mailbox_full", "suspended") and by_text in ("", "user_unknown"):
        return by_status
    if by_status == "expired" and by_text not in ("mailbox_full", "user_unknown"):
        return by_status
    return by_text or by_status or "unknown"


_GENERIC_TEXT = frozenset({"", "rejected", "system_error", "network_error",
                           "spam_detected", "auth_failure", "no_relaying", "expired"})
_AT_DATA = re.compile(r"(?:in reply to|after) end of data|after data|data command|"
                      r">>> data\s*\n\s*<<< ?5\d\d", re.I)
# Pipelining: a 5xx read after ">>> DATA" followed by "Need RCPT" was the RCPT's answer.
_PIPELINED_RCPT = re.compile(r"need rcpt|no valid recipients", re.I)


def failed_at_data(text: str) -> bool:
    """Tell whether a transcript shows the failure came after DATA, not at RCPT TO."""
    match = _AT_DATA.search(text)
    return bool(match) and not _PIPELINED_RCPT.search(text, match.end(), match.end() + 400)


def bounce_type(reason: str, status: str) -> str:
    """Return 'hard' when the address itself is bad, otherwise 'soft'."""
    if reason == "not_accept":
        return "hard" if status.startswith("5") or not status else "soft"
    return "hard" if reason in HARD_REASONS else "soft"


def fill_status(status: str, reason: str, smtp_code: str) -> str:
    """Return the status, or the best stand-in when the message carried no x.y.z code."""
    if status:
        return status
    klass = smtp_code[:1] if smtp_code[:1] in ("4", "5") else ""
    guess = REASON_STATUS.get(reason, "")
    if guess and (not klass or guess[0] == klass):
        return guess
    return f"{klass or '5'}.0.0"
