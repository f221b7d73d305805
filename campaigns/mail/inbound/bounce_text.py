"""Recognise bounces that are not RFC 3464 reports: qmail, Exim, old Postfix, Sendmail,
Exchange, Lotus Notes, Yahoo, Gmail and the many in-house formats, by sender, subject and
the phrases of the report, and read the failed recipients and SMTP codes off the text.

flufl.bounce knows many of these formats but only returns addresses, misses most of the
modern ones on the corpus (see bounces.py), and some of its detectors raise on unusual
input; it stays a fallback for recipients.
"""

from __future__ import annotations

import re

from campaigns.mail.inbound.addresses import ADDRESS, find_addresses

_DAEMONS = (r"mailer-?daemon|mail-?daemon|postmaster|poostmaster|post_master|mdaemon|"
            r"mail\.delivery\.system|maildelivery|mailerdaemon")
DAEMON_LOCALS = re.compile(rf"^(?:{_DAEMONS})$", re.I)
# Never a failed recipient: delivery software and no-reply senders quoted in reports.
NOT_RECIPIENTS = re.compile(rf"^(?:{_DAEMONS}|bounces?|no-?reply|noreply-dmarc-support)$",
                            re.I)
_DAEMON_NAMES = re.compile(
    r"mail ?delivery|mailer.?daemon|post ?master|mail administrator|system administrator|"
    r"mail system|delivery (?:status|notification)|ndr administrator|interscan|mmsc",
    re.I)
BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|not (?:be )?delivered|delivery (?:status notification|"
    r"notification|fail|problem|report|has failed)|deliver(?:y|ing) failed|failure notice|"
    r"returned mail|returning message|mail delivery|delivery status|could not (?:be )?"
    r"deliver|non.?deliver|nondeliverable|unzustellbar|non recapitabile|non remis|"
    r"no (?:se )?(?:ha )?(?:podido|puede) entregar|onbestelbaar|niedostarczal|"
    r"mail system error|message delivery has failed|failed delivery|delivery failure|"
    r"permanent (?:delivery )?(?:error|failure)|error sending your mail|"
    r"returned to sender|rejected:|mail failure|message you sent blocked|postmaster notify|"
    r"benachrichtig|zustellung|échec|impossible de remettre|"
    r"недоставлен|не (?:может быть )?доставлен|сообщение не", re.I)
DELAY_SUBJECT = re.compile(r"\(delay\)|delayed|still being retried|warning: could not send|"
                           r"delivery (?:has been )?delayed|will retry", re.I)
# Phrases only delivery software writes. Kept specific: humans write "could not".
FAILURE_PHRASES = re.compile(
    r"could not be delivered|couldn'?t be delivered|was not delivered|wasn'?t delivered|"
    r"(?:permanent|fatal) (?:error|failure)|following address(?:es)? (?:had|failed)|"
    r"(?:not able|unable|wasn'?t able|failed) to (?:be )?deliver|delivery (?:to the following|"
    r"has failed|failed|attempt(?:s)? failed)|undeliverable|error delivering your mail|"
    r"message (?:could not|cannot) be delivered|did not reach the following|"
    r"recipient address rejected|user unknown|returned to sender|i'?m afraid i wasn'?t able|"
    r"this is the mail system at|this is the qmail-send|message was not sent|"
    r"delivery to .{1,80} failed|unknown user|does not exist|no such user|"
    r"(?:following|these) recipients?(?: or distribution lists)?(?: could not| cannot|:)|"
    r"mailbox (?:is )?(?:full|unavailable)|smtp error|remote (?:server|host) (?:said|replied)|"
    r"rcpt to|failed permanently|rejected your message|message rejected|"
    r"not be delivered|delivery failed|has been blocked|have been blocked|"
    r"giving up|gave up|queue too long|could not deliver|unable to deliver|"
    r"return(?:ed|ing) (?:your )?(?:mail|message)|"
    r"メール.{0,10}(?:送信|配信).{0,10}(?:でき|失敗)|не (?:может быть )?доставлено", re.I)
DELAY_PHRASES = re.compile(
    r"delivery (?:is |has been )?delayed|(?:will|still) (?:be )?(?:retry|retried|trying)|"
    r"will (?:continue|keep) (?:to )?(?:try|trying)|temporary problem|not yet been delivered|"
    r"delivery incomplete|no action is required on your part|this is only a warning|"
    r"you will be notified|will be retried", re.I)
DELIVERED_PHRASES = re.compile(r"delivery to the following recipients? (?:was )?"
                               r"(?:successful|completed)|successfully delivered|"
                               r"message was delivered", re.I)

# Where a report stops and the returned original starts.
ORIGINAL_MARKER = re.compile(
    r"^[ \t]*(?:-{2,}\s*)?(?:(?:below this line is a copy of the message)|(?:this is a copy of "
    r"the message)|(?:original message (?:follows|headers? follows?))|(?:message headers "
    r"follow)|(?:(?:the )?original message(?: was received at .*)?:?\s*-*$)|(?:returned message"
    r")|(?:received message)|(?:the headers of your message)|(?:text of the (?:original )?"
    r"message)|(?:unsent message below)|(?:the original message)|(?:headers of the original)|"
    r"(?:----- ?transcript of session follows)|(?:original message header)|(?:the first \d+ "
    r"lines of))", re.I | re.M)

# Each pattern captures a failed recipient; earlier patterns are more reliable.
RECIPIENT_PATTERNS = [re.compile(p, re.I | re.M) for p in (
    r"^[ \t]*<([^<>\s]+@[^<>\s]+)>:?[ \t]*$",
    r"^[ \t]*<([^<>\s]+@[^<>\s]+)>:\s",
    r"^[ \t]*(?:final|original)-recipient:\s*(?:rfc822|smtp)?;?\s*<?([^<>\s;]+@[^<>\s]+?)>?[ \t]*$",
    r"rcpt to:\s*<([^<>\s]+@[^<>\s]+)>",
    r"(?:delivering|deliver|delivered|delivery) (?:your )?(?:mail|message|e-?mail)? ?to:?\s*"
    r"<?([^<>\s,;]+@[^<>\s,;]+)>?[\s.,:;)]",
    r"(?:message|mail|e-?mail) (?:to|for) <?([^<>\s,;]+@[^<>\s,;]+)>? (?:could|couldn|was|"
    r"wasn|has|did|cannot|can't)",
    r"^[ \t]*(?:recipient|to|address|rcpt|failed recipient|original recipient)(?:\(s\))?"
    r"(?: address)?\s*:\s*<?([^<>\s,;]+@[^<>\s,;]+?)>?[ \t]*$",
    r"^[ \t]*<?([^<>\s:]+@[^<>\s:]+?)>?(?: on \w+,? .*| \(.*\)|:)?[ \t]*$",
    r"^[ \t]*(?:user|mailbox|recipient|address)\s+<?([^<>\s]+@[^<>\s]+?)>?[\s:]",
    r"(?:following|failed|invalid|unknown|bad) (?:recipients?|address(?:es)?|users?)"
    r"(?:\(\w+\))?\s*:?\s*<?([^<>\s,;]+@[^<>\s,;]+)",
)]
SMTP_REPLY = re.compile(r"(?<![\d.])([45])\d\d(?=[ -](?:#?[245]\.\d|[A-Za-z<(\[]))")
ENHANCED_AFTER_REPLY = re.compile(
    r"(?<![\d.])[45]\d\d[ -]['\"]?#?([45]\.\d{1,3}\.\d{1,3})(?!\.?\d)")
ENHANCED_ANY = re.compile(r"(?:^|[\s(#\[:=\"'])([45]\.\d{1,3}\.\d{1,3})(?=$|[\s).,;:\]\"'-])",
                          re.M)


def report_part(text: str) -> str:
    """Return the text before the returned original message starts."""
    match = ORIGINAL_MARKER.search(text)
    return text[: match.start()] if match and match.start() > 40 else text


def looks_like_daemon(address: str, name: str) -> bool:
    """Tell whether a From address or name belongs to delivery software."""
    local = address.split("@", 1)[0]
    return bool(DAEMON_LOCALS.match(local) or _DAEMON_NAMES.search(name))


def candidate_recipients(text: str, exclude: set[str]) -> list[str]:
    """Return failed recipients found by the format patterns, most reliable first."""
    for pattern in RECIPIENT_PATTERNS:
        found = _clean([m.group(1) for m in pattern.finditer(text)], exclude)
        if found:
            return found
    return []


def _clean(values: list[str], exclude: set[str]) -> list[str]:
    """Keep real, distinct, non-excluded, non-daemon addresses."""
    out: dict[str, None] = {}
    for value in values:
        match = ADDRESS.search(value)
        if not match:
            continue
        address = match.group(1).lower().rstrip(".")
        if address in exclude or NOT_RECIPIENTS.match(address.split("@", 1)[0]):
            continue
        out.setdefault(address, None)
    return list(out)


def lone_recipient(text: str, exclude: set[str]) -> list[str]:
    """Return the only address a report mentions (besides excluded ones), if just one."""
    found = _clean(find_addresses(text[:20000]), exclude)
    return found if len(found) == 1 else []


def smtp_status(text: str) -> tuple[str, str]:
    """Return (enhanced status, SMTP reply class) found in a diagnostic text."""
    enhanced = ENHANCED_AFTER_REPLY.search(text) or ENHANCED_ANY.search(text)
    reply = SMTP_REPLY.search(text)
    return (enhanced.group(1) if enhanced else "", reply.group(1) if reply else "")
