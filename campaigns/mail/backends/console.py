"""Print each message to standard output (for trying things out)."""

from __future__ import annotations

import sys
from types import TracebackType

from campaigns.mail.backends import Envelope


class ConsoleBackend:
    """Deliver by printing the envelope and the message."""

    def __enter__(self) -> ConsoleBackend:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        sys.stdout.flush()

    def send(self, envelope: Envelope) -> dict[str, tuple[int, str]]:
        """Write the message with a separator line to stdout."""
        out = sys.stdout
        out.write(f"----- from {envelope.sender} to {', '.join(envelope.recipients)}\n")
        out.write(envelope.data.decode("utf-8", "replace").replace("\r\n", "\n"))
        out.write("\n")
        return {}
