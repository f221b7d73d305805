"""An LMTP (or SMTP) server a mail server hands replies to: `campaigns inbound listen`.

Each message is stored raw before the server answers, with the SMTP envelope kept beside it
(the envelope recipient may be the only place a reply+TOKEN address survives). LMTP answers
once per recipient. A storage failure answers 451 so the sending server keeps the message
and tries again: nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session
from flask import Flask

from campaigns.core.inbound.store import store_raw
from campaigns.db import db
from campaigns.errors import InboundError, MessageTooLarge
from campaigns.models import ReceivedVia

log = logging.getLogger(__name__)


class IntakeHandler:
    """aiosmtpd handler: accept any recipient, store each message, answer per recipient."""

    def __init__(self, app: Flask, *, lmtp: bool,
                 after_store: Callable[[int], Any] | None = None) -> None:
        self.app = app
        self.lmtp = lmtp
        self.after_store = after_store

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        recipients = list(envelope.rcpt_tos)
        reply = await asyncio.get_running_loop().run_in_executor(
            None, self.store, raw, str(envelope.mail_from or ""), recipients)
        return "\r\n".join([reply] * len(recipients)) if self.lmtp else reply

    def store(self, raw: bytes, mail_from: str, recipients: list[str]) -> str:
        """Store one message in its own app context; return the SMTP reply line."""
        with self.app.app_context():
            try:
                stored = store_raw(raw, ReceivedVia.LMTP, envelope={
                    "mail_from": mail_from[:320], "rcpt_to": [r[:320] for r in recipients]})
                db.session.commit()
            except MessageTooLarge as exc:
                return f"552 5.3.4 {_one_line(exc.message)}"
            except InboundError as exc:
                return f"554 5.6.0 {_one_line(exc.message)}"
            except Exception:  # noqa: BLE001 - answered 451: the sender keeps it and retries
                db.session.rollback()
                log.exception("could not store an inbound message; answered 451")
                return "451 4.3.0 Could not store the message now; try again later"
            if self.after_store is not None and stored.created:
                self._after_store(stored.id)
            return f"250 2.0.0 Stored as inbound message {stored.id}"

    def _after_store(self, inbound_id: int) -> None:
        """Run the after-store hook; the message is already safe, so only log a failure."""
        try:
            self.after_store(inbound_id)
        except Exception:  # noqa: BLE001 - the sweep re-enqueues messages left stored
            db.session.rollback()
            log.exception("processing inbound message %s right away failed", inbound_id)


def _one_line(text: str) -> str:
    """Return text safe for one SMTP reply line."""
    return " ".join(text.split())[:200]


class IntakeController(Controller):
    """A threaded aiosmtpd controller that speaks LMTP or SMTP."""

    def factory(self) -> SMTP:
        server_class = LMTP if self.handler.lmtp else SMTP
        return server_class(self.handler, **self.SMTP_kwargs)


def make_listener(app: Flask, host: str, port: int, *, lmtp: bool,
                  after_store: Callable[[int], Any] | None = None) -> IntakeController:
    """Return a stopped listener; call .start() and .stop()."""
    handler = IntakeHandler(app, lmtp=lmtp, after_store=after_store)
    return IntakeController(handler, hostname=host, port=port, decode_data=False,
                            data_size_limit=app.config["INBOUND_MAX_BYTES"],
                            ident="campaigns inbound", server_hostname="campaigns")
