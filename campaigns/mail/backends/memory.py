"""Keep messages in a list in memory (tests)."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import ClassVar

from campaigns.mail.backends import Envelope


class MemoryBackend:
    """Deliver by appending to ``MemoryBackend.outbox``, shared by the whole process."""

    outbox: ClassVar[list[Envelope]] = []
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __enter__(self) -> MemoryBackend:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        return None

    def send(self, envelope: Envelope) -> dict[str, tuple[int, str]]:
        """Append the envelope to the shared outbox."""
        with self._lock:
            self.outbox.append(envelope)
        return {}

    @classmethod
    def clear(cls) -> None:
        """Empty the shared outbox."""
        with cls._lock:
            cls.outbox.clear()
