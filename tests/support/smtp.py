"""A real SMTP server (aiosmtpd) on a loopback port, scriptable per recipient.

A recipient whose local part starts with ``tempfail`` gets 451 at end of data, ``reject``
gets 550 at RCPT, ``drop`` makes the server hang up after the data arrives (no reply),
``flaky`` gets 451 the first time and is accepted after; addresses in ``handler.refuse``
get 550 at RCPT until removed.
``SmtpServer(pipelining=True)`` advertises PIPELINING (aiosmtpd reads commands in order, so
pipelined clients work); ``delay`` makes every DATA take that long (other connections go on).
"""

from __future__ import annotations

import asyncio
import socket
import threading
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    """Return a loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    """One message the server accepted."""

    sender: str
    recipients: list[str]
    data: bytes


@dataclass
class RecordingHandler:
    """Accept mail, remember it, and misbehave on request."""

    messages: list[Received] = field(default_factory=list)
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    pipelining: bool = False
    delay: float = 0.0
    refuse: set[str] = field(default_factory=set)
    attempts: dict[str, int] = field(default_factory=dict)

    async def handle_EHLO(self, server: SMTP, session: Session, envelope: Envelope,
                          hostname: str, responses: list[str]) -> list[str]:
        with self.lock:
            self.connections += 1
        session.host_name = hostname
        if self.pipelining:
            responses.insert(len(responses) - 1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, options: list[str]) -> str:
        if address.startswith("reject") or address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        first = envelope.rcpt_tos[0]
        if first.startswith("drop"):
            with self.lock:
                self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                              envelope.original_content or b""))
            server.transport.close()
            return "250 never seen by the client"
        with self.lock:
            self.attempts[first] = self.attempts.get(first, 0) + 1
        if first.startswith("tempfail") or (first.startswith("flaky")
                                            and self.attempts[first] == 1):
            return "451 4.3.0 Try again later"
        with self.lock:
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                          envelope.original_content or b""))
        return "250 2.0.0 Queued"


class SmtpServer:
    """Run a RecordingHandler on 127.0.0.1:<free port> until stopped."""

    def __init__(self, *, pipelining: bool = False, delay: float = 0.0) -> None:
        self.handler = RecordingHandler(pipelining=pipelining, delay=delay)
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port,
                                     decode_data=False)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def recipients(self) -> list[str]:
        """Return the recipient of every message received so far, in order."""
        with self.handler.lock:
            return [r for message in self.handler.messages for r in message.recipients]

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
