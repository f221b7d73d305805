"""Recognise lines that start a signature: "-- ", delimiter rules, "Sent from my iPhone"."""

from __future__ import annotations

import re

_DELIMITER = re.compile(r"^\s*(?:--\s*|([-_*#~=+])\1{1,}\s*|\u1427\s*)$")
# Full-line patterns: "Sent from my desk, it is easier" is prose, not a signature.
_MOBILE = re.compile(
    r"^\s*(?:"
    r"sent from my (?:[\w'’.-]+\s*){1,5}[.!]?"
    r"|sent (?:from|with|via|using) (?:mailbox|outlook|yahoo mail|airmail|windows mail|gmail|"
    r"blackberry|samsung|spark|proton ?mail|aol|my (?:mobile|phone|cell)|mobile|a phone|"
    r"\[mail\]|mail for windows|typeapp|myMail|edison|newton|zoho|bluemail|aquamail|"
    r"k-9|fairemail)\b.{0,80}"
    r"|sent via mobile|sent on the go.{0,40}|from my iphone(?: \w+)?|"
    r"get (?:\[)?outlook for (?:ios|android).{0,80}|"
    r"\(?sent from (?:a |my )?(?:phone|mobile(?: device)?|iphone|ipad)\)?|<<sent by [\w ]{1,30}>>|"
    r"von meinem [\w ./-]{1,40} gesendet.?|gesendet von meinem [\w ./-]{1,40}|"
    r"gesendet (?:mit|von) [\w ./-]{1,40}|diese nachricht wurde von meinem .{1,60} gesendet\.?|"
    r"envoyé (?:depuis|de|à partir de) (?:mon|ma) [\w ./-]{1,40}|"
    r"enviado (?:desde|do|de) (?:mi|meu|o meu|mi) [\w ./-]{1,40}|"
    r"inviato da(?:l)? (?:mio |iphone|ipad|android|samsung)[\w ./-]{0,40}|"
    r"verzonden (?:met|vanaf|van) (?:mijn )?[\w ./-]{1,40}|"
    r"skickat från (?:min )?[\w ./-]{1,40}|sendt fra (?:min )?[\w ./-]{1,40}|"
    r"wysłane z (?:mojego |mojej )?[\w ./-]{1,40}|отправлено с [\w ./-]{1,40}|"
    r"发自我的\s?[\w ]{1,20}|從我的\s?[\w ]{1,20}傳送|[\w ]{1,20}から送信"
    r")\s*$", re.I)


def is_signature_line(line: str) -> bool:
    """Tell whether a line starts a signature (delimiter or a mobile 'Sent from' line)."""
    if len(line) > 160:
        return False
    return bool(_DELIMITER.match(line) or _MOBILE.match(line))
