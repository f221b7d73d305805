"""SMTP delivery over one reused connection, with the outcome of every transaction typed.

smtplib's ``sendmail`` folds "the line dropped before DATA" (safe to retry) and "the line
dropped after the data went out" (maybe delivered) into one exception; the ledger needs them
apart, so the DATA phase is written out here with smtplib's own primitives. When the server
offers PIPELINING (RFC 2920), MAIL, RCPT and DATA go out in one write and their replies are
read together: two round trips per message instead of four.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Callable, Sequence
from types import TracebackType
from urllib.parse import unquote, urlsplit

from campaigns.errors import (
    ConfigurationError,
    MailError,
    PermanentMailError,
    TransientMailError,
    UncertainDeliveryError,
)
from campaigns.mail.backends import Envelope

_LEADING_DOT = re.compile(rb"(?m)^\.")


class SmtpBackend:
    """Send over SMTP, plain, STARTTLS or implicit TLS, with optional AUTH."""

    def __init__(self, host: str, port: int, *, security: str = "none", username: str = "",
                 password: str = "", timeout: float = 30, local_hostname: str | None = None,
                 tls_context: ssl.SSLContext | None = None) -> None:
        self.host, self.port, self.security = host, port, security
        self.username, self.password, self.timeout = username, password, timeout
        self.local_hostname = local_hostname
        self._tls_context = tls_context  # built on first use: loading the CA store costs ~30 ms
        self._conn: smtplib.SMTP | None = None

    @property
    def tls_context(self) -> ssl.SSLContext:
        """Return the TLS context, creating the default one when first needed."""
        if self._tls_context is None:
            self._tls_context = ssl.create_default_context()
        return self._tls_context

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 30) -> SmtpBackend:
        """Build a backend from smtp://, smtp+starttls:// or smtps:// with user:pass@host:port."""
        parts = urlsplit(url)
        if not parts.hostname:
            raise ConfigurationError(f"MAIL_URL {url!r} has no host")
        security = {"smtp": "none", "smtp+starttls": "starttls", "smtps": "ssl"}[parts.scheme]
        default_port = {"none": 25, "starttls": 587, "ssl": 465}[security]
        return cls(parts.hostname, parts.port or default_port, security=security,
                   username=unquote(parts.username or ""), password=unquote(parts.password or ""),
                   timeout=timeout)

    def __enter__(self) -> SmtpBackend:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Say QUIT if the line is still up, and forget the connection."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            conn.close()

    def send(self, envelope: Envelope) -> dict[str, tuple[int, str]]:
        """Run one SMTP transaction; return refused recipients, raise on failure."""
        conn = self._connection()
        if conn.has_extn("pipelining"):
            refused = self._pipelined(conn, envelope)
        else:
            refused = self._stepwise(conn, envelope)
        self._send_data(conn, envelope.data)
        return refused

    def send_many(self, envelopes: Sequence[Envelope]) -> list[MailError | None]:
        """Send messages in turn; return None (sent) or the error, one per message.

        With PIPELINING, each message's data goes out in the same write as the next
        message's MAIL, RCPT and DATA (RFC 2920 allows the content to open a group): one
        round trip per message instead of two.
        """
        outcomes: list[MailError | None] = [None] * len(envelopes)
        try:
            pipelining = self._connection().has_extn("pipelining")
        except MailError as exc:
            return [exc] * len(envelopes)
        if not pipelining:
            return [_attempt(self.send, envelope) for envelope in envelopes]
        previous: int | None = None  # the message whose data goes out with the next group
        for index in range(len(envelopes) + 1):
            current = index if index < len(envelopes) else None
            previous = self._exchange(envelopes, outcomes, previous, current)
        return outcomes

    def _exchange(self, envelopes: Sequence[Envelope], outcomes: list[MailError | None],
                  previous: int | None, current: int | None) -> int | None:
        """Send one group (previous data, current envelope), read its replies.

        Record the outcomes; return the index whose data is to go out next, if any.
        """
        try:
            conn = self._connection()
        except MailError as exc:
            for index in (previous, current):
                if index is not None:
                    outcomes[index] = exc
            return None
        group = _data_bytes(envelopes[previous].data) if previous is not None else b""
        try:
            group += _envelope_commands(envelopes[current]) if current is not None else b""
        except MailError as exc:  # an address we cannot put on the wire
            outcomes[current] = exc
            current = None
        try:
            conn.send(group)
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            return self._lost(outcomes, previous, current, f"while sending the data: {exc}")
        if previous is not None:
            try:
                code, reply = conn.getreply()
            except (smtplib.SMTPServerDisconnected, OSError) as exc:
                self._drop()
                return self._lost(outcomes, previous, current,
                                  f"after the message data: {exc}")
            outcomes[previous] = None if code == 250 else _refusal(code, reply, "end of data")
        if current is None:
            return None
        try:
            self._envelope_replies(conn, envelopes[current])
        except MailError as exc:
            outcomes[current] = exc
            return None
        return current

    @staticmethod
    def _lost(outcomes: list[MailError | None], previous: int | None, current: int | None,
              when: str) -> None:
        """Record a connection lost mid-group: the data sent is uncertain, the next was not."""
        if previous is not None:
            outcomes[previous] = UncertainDeliveryError(f"connection lost {when}")
        if current is not None:
            outcomes[current] = TransientMailError(f"connection lost before the message "
                                                   f"data: {when}")
        return None

    def _stepwise(self, conn: smtplib.SMTP, envelope: Envelope) -> dict[str, tuple[int, str]]:
        """Send MAIL, RCPT and DATA one at a time, each waiting for its reply."""
        try:
            refused = self._envelope(conn, envelope)
            code, reply = conn.docmd("DATA")
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            raise TransientMailError(f"connection lost before the message data: {exc}") from exc
        if code != 354:
            self._reset(conn)
            raise _refusal(code, reply, "DATA")
        return refused

    def _pipelined(self, conn: smtplib.SMTP, envelope: Envelope) -> dict[str, tuple[int, str]]:
        """Send MAIL, RCPT and DATA in one write, then read their replies in order."""
        try:
            conn.send(_envelope_commands(envelope))
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            raise TransientMailError(f"connection lost before the message data: {exc}") from exc
        return self._envelope_replies(conn, envelope)

    def _envelope_replies(self, conn: smtplib.SMTP, envelope: Envelope
                          ) -> dict[str, tuple[int, str]]:
        """Read the replies to a pipelined MAIL, RCPT... and DATA; raise if it was refused."""
        try:
            mail = conn.getreply()
            rcpts = [conn.getreply() for _ in envelope.recipients]
            data = conn.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            raise TransientMailError(f"connection lost before the message data: {exc}") from exc
        refused = {r: (code, _text(reply)) for r, (code, reply) in zip(envelope.recipients, rcpts,
                                                                      strict=True)
                   if code not in (250, 251)}
        failure = _pipelined_failure(mail, refused, len(envelope.recipients), data)
        if failure is not None:
            self._abandon(conn, data[0] == 354)
            raise failure
        return refused

    def _abandon(self, conn: smtplib.SMTP, in_data: bool) -> None:
        """End a refused pipelined transaction: an empty message if DATA was taken, RSET."""
        try:
            if in_data:  # RFC 2920: a server that said 354 gets a lone "." it must refuse
                conn.send(b".\r\n")
                conn.getreply()
        except (smtplib.SMTPServerDisconnected, OSError):
            self._drop()
            return
        self._reset(conn)

    def _connection(self) -> smtplib.SMTP:
        """Return the open connection, opening (and authenticating) it if needed."""
        if self._conn is not None:
            return self._conn
        try:
            self._conn = self._open()
        except smtplib.SMTPAuthenticationError as exc:
            raise PermanentMailError(f"SMTP authentication failed: {exc.smtp_code} "
                                     f"{_text(exc.smtp_error)}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TransientMailError(f"cannot connect to {self.host}:{self.port}: {exc}") from exc
        return self._conn

    def _open(self) -> smtplib.SMTP:
        """Connect, say EHLO, upgrade to TLS and log in as configured."""
        if self.security == "ssl":
            conn: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                                  local_hostname=self.local_hostname,
                                                  context=self.tls_context)
        else:
            conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout,
                                local_hostname=self.local_hostname)
        conn.ehlo()
        if self.security == "starttls":
            conn.starttls(context=self.tls_context)
            conn.ehlo()
        if self.username:
            conn.login(self.username, self.password)
        return conn

    def _envelope(self, conn: smtplib.SMTP, envelope: Envelope) -> dict[str, tuple[int, str]]:
        """Send MAIL FROM and RCPT TO; raise unless at least one recipient was accepted."""
        code, reply = conn.mail(envelope.sender)
        if code != 250:
            self._reset(conn)
            raise _refusal(code, reply, "MAIL FROM")
        refused: dict[str, tuple[int, str]] = {}
        for rcpt in envelope.recipients:
            code, reply = conn.rcpt(rcpt)
            if code not in (250, 251):
                refused[rcpt] = (code, _text(reply))
        if len(refused) == len(envelope.recipients):
            self._reset(conn)
            code, reply = next(iter(refused.values()))
            raise _refusal(code, reply, "RCPT TO")
        return refused

    def _send_data(self, conn: smtplib.SMTP, data: bytes) -> None:
        """Send the message after a 354; a drop once the bytes are out is uncertain."""
        try:
            conn.send(_data_bytes(data))
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            # sendall failed, so the closing "." never went out: the server cannot deliver it
            self._drop()
            raise TransientMailError(f"connection lost while sending the data: {exc}") from exc
        try:
            code, reply = conn.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            raise UncertainDeliveryError(f"connection lost after the message data: {exc}") from exc
        if code != 250:
            raise _refusal(code, reply, "end of data")

    def _reset(self, conn: smtplib.SMTP) -> None:
        """Abort the transaction so the connection can carry the next message."""
        try:
            conn.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        """Forget a broken connection; the next send opens a new one."""
        if self._conn is not None:
            self._conn.close()
        self._conn = None


def _envelope_commands(envelope: Envelope) -> bytes:
    """Return MAIL FROM, one RCPT TO per recipient and DATA, as one pipelined write."""
    commands = [f"MAIL FROM:{_path(envelope.sender)}"]
    commands += [f"RCPT TO:{_path(r)}" for r in envelope.recipients]
    return ("\r\n".join([*commands, "DATA"]) + "\r\n").encode("ascii")


def _data_bytes(data: bytes) -> bytes:
    """Return the message dot-stuffed and ended by the lone "." line."""
    needs_stuffing = data[:1] == b"." or b"\n." in data  # a fast search; the regex is not
    payload = _LEADING_DOT.sub(b"..", data) if needs_stuffing else data
    if not payload.endswith(b"\r\n"):
        payload += b"\r\n"
    return payload + b".\r\n"


def _path(address: str) -> str:
    """Return <address> for MAIL/RCPT (smtplib's quoteaddr parses it again: ~30 µs)."""
    if any(c in address for c in "\r\n<>") or not address.isascii():
        raise PermanentMailError(f"not a deliverable address: {address!r}")
    return f"<{address}>"


def _attempt(send: Callable[[Envelope], object], envelope: Envelope) -> MailError | None:
    """Send one message; return the error instead of raising it."""
    try:
        send(envelope)
    except MailError as exc:
        return exc
    return None


def _text(reply: bytes | str) -> str:
    """Decode a server reply for storing as a last error."""
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _pipelined_failure(mail: tuple[int, bytes], refused: dict[str, tuple[int, str]],
                       recipients: int, data: tuple[int, bytes]) -> Exception | None:
    """Return the error a pipelined MAIL/RCPT/DATA exchange ended in, if any."""
    if mail[0] != 250:
        return _refusal(mail[0], mail[1], "MAIL FROM")
    if len(refused) == recipients:
        code, reply = next(iter(refused.values()))
        return _refusal(code, reply, "RCPT TO")
    if data[0] != 354:
        return _refusal(data[0], data[1], "DATA")
    return None


def _refusal(code: int, reply: bytes | str, stage: str) -> Exception:
    """Return the typed error for an SMTP reply code: 4xx transient, else permanent."""
    message = f"{stage}: {code} {_text(reply)}"
    if 400 <= code < 500 or code == -1:
        return TransientMailError(message, smtp_code=code)
    return PermanentMailError(message, smtp_code=code)
