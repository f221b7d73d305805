"""Write each message as an .eml file under the instance outbox (one-process mode)."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

from campaigns.mail.backends import Envelope


class FileBackend:
    """Deliver by writing ``<outbox>/<time>-<uuid>.eml`` atomically."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @classmethod
    def from_url(cls, url: str, *, instance_path: Path) -> FileBackend:
        """file:// means <instance>/outbox; file:///abs/path names another folder."""
        path = urlsplit(url).path
        return cls(Path(path) if path not in ("", "/") else instance_path / "outbox")

    def __enter__(self) -> FileBackend:
        self.directory.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        return None

    def send(self, envelope: Envelope) -> dict[str, tuple[int, str]]:
        """Write the message; a reader never sees a half-written file."""
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        name = f"{stamp}-{uuid.uuid4().hex[:12]}.eml"
        temporary = self.directory / f".{name}.tmp"
        temporary.write_bytes(envelope.data)
        os.replace(temporary, self.directory / name)
        return {}
