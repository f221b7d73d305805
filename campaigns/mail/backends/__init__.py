"""One small interface for delivering a finished message, and the registry of backends.

A backend is a context manager: entering it may open a connection that is reused for every
``send`` until it exits, so a worker pays for one SMTP handshake per batch, not per email.
``send`` returns the recipients the server refused (empty when all were taken) and raises
``TransientMailError`` (try later), ``PermanentMailError`` (never retry) or
``UncertainDeliveryError`` (the line dropped after the data went out: never resend blindly).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Protocol
from urllib.parse import urlsplit

from campaigns.errors import ConfigurationError


@dataclass(frozen=True, slots=True)
class Envelope:
    """What an SMTP transaction needs: the return path, the recipients and the bytes."""

    sender: str
    recipients: tuple[str, ...]
    data: bytes  # the whole message, CRLF line endings


class MailBackend(Protocol):
    """Deliver finished messages, reusing one connection between enter and exit."""

    def __enter__(self) -> MailBackend: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...

    def send(self, envelope: Envelope) -> dict[str, tuple[int, str]]: ...


def backend_from_url(url: str, *, instance_path: str | Path, timeout: float = 30) -> MailBackend:
    """Return a new backend for a MAIL_URL (smtp, smtp+starttls, smtps, file, console, memory)."""
    scheme = urlsplit(url).scheme
    if scheme in ("smtp", "smtp+starttls", "smtps"):
        from campaigns.mail.backends.smtp import SmtpBackend

        return SmtpBackend.from_url(url, timeout=timeout)
    if scheme == "file":
        from campaigns.mail.backends.file import FileBackend

        return FileBackend.from_url(url, instance_path=Path(instance_path))
    if scheme == "console":
        from campaigns.mail.backends.console import ConsoleBackend

        return ConsoleBackend()
    if scheme == "memory":
        from campaigns.mail.backends.memory import MemoryBackend

        return MemoryBackend()
    raise ConfigurationError(
        f"MAIL_URL must start with smtp://, smtp+starttls://, smtps://, file://, console:// "
        f"or memory://, not {url!r}")


def backend_for_app(app) -> MailBackend:  # noqa: ANN001 - a Flask app
    """Return a new backend for the app's MAIL_URL."""
    return backend_from_url(app.config["MAIL_URL"], instance_path=app.instance_path,
                            timeout=app.config["MAIL_TIMEOUT"])
