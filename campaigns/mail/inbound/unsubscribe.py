"""Recognise a written request to stop receiving mail ("please remove me from your list").

Only the new text counts (quoted footers say "unsubscribe" in every newsletter), and only
when the request is the gist of it: a short message whose request phrase is not negated
("I don't want to unsubscribe") and not a question about something else.
"""

from __future__ import annotations

import re

MAX_WORDS = 60  # "Please remove me, thanks" is short; a real reply that mentions it is not
_REQUEST = re.compile(
    r"\b(?:unsubscribe|unsub|opt(?:[ -])?out|remove (?:me|my (?:e-?mail|address|name))|"
    r"take me off|(?:stop|quit|cease) (?:e-?mailing|emailing|sending|contacting|writing)|"
    r"(?:do not|don'?t|never) (?:e-?mail|contact|write to|send) (?:me|us)|no more e-?mails?|"
    r"delete (?:me|my (?:e-?mail|address|data|details))|not interested,? (?:please )?remove|"
    r"abmelden|austragen|abbestellen|(?:bitte )?(?:keine|nicht mehr) (?:e-?mails|mails|"
    r"nachrichten)|entfernen sie mich|löschen sie mich|"
    r"désinscri\w*|desinscri\w*|désabonne\w*|desabonne\w*|retirez[- ]moi|supprimez[- ]moi|"
    r"ne plus recevoir|"
    r"darme de baja|dar(?:me)? de baja|bórrenme|borrenme|eliminarme|no (?:me )?env[ií]en|"
    r"cancelar (?:la )?suscripci[oó]n|desuscribir\w*|"
    r"uitschrijven|afmelden|schrijf me uit|verwijder (?:mij|me|mijn)|"
    r"wypisz|wypisać|usuń mnie|usun mnie|rezygnuj\w*|"
    r"cancellami|cancellatemi|disiscriv\w*|rimuovetemi|"
    r"descadastr\w*|cancelar inscri\w*|remova-me|removam-me|"
    r"avregistrera|avsluta prenumeration|ta bort mig|afmeld mig|frameld|"
    r"配信停止|配信を停止|退订|取消订阅|отписаться|отпишите)", re.I)
_NEGATION = re.compile(
    r"(?:not|n't|never|no need to|nicht|pas|no)\s+(?:\w+\s+){0,2}$", re.I)
_QUESTION_ABOUT = re.compile(r"\b(?:how|why|where|can i|could i|wie|comment|cómo|como)\b[^.!?\n]"
                             r"{0,60}$", re.I)
_WORD = re.compile(r"\w+")


def is_unsubscribe_request(new_text: str, subject: str = "") -> bool:
    """Tell whether the new text (or a bare subject) asks to be taken off the list."""
    text = new_text.strip()[:2000]
    if not text:
        return bool(_REQUEST.fullmatch(_core(subject)))
    if len(_WORD.findall(text)) > MAX_WORDS:
        return False
    for match in _REQUEST.finditer(text):
        before = text[max(0, match.start() - 40): match.start()]
        if _NEGATION.search(before) or _QUESTION_ABOUT.search(before):
            continue
        return True
    return False


def _core(subject: str) -> str:
    """Strip reply prefixes and punctuation from a subject."""
    core = re.sub(r"^\s*(?:(?:re|aw|sv|fw|fwd|antw)\s*:\s*)+", "", subject, flags=re.I)
    return core.strip(" .!-")
