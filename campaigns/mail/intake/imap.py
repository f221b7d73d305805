"""Read reply mailboxes over IMAP without changing them for their owner.

Each mailbox is read from a checkpoint (UIDVALIDITY + the last UID taken): new messages are
fetched with ``BODY.PEEK[]`` so none is marked read, stored raw, and the checkpoint moves in
the same commit as the batch. Nothing is ever deleted; a configured ``move_to`` folder gets
the stored messages (IMAP MOVE, or COPY + UID EXPUNGE of exactly those UIDs). A message
over the size cap is left where it is and noted on the checkpoint.
"""

from __future__ import annotations

import json
import logging
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError
from sqlalchemy.exc import SQLAlchemyError

from campaigns.core.inbound.store import store_many
from campaigns.db import db, utcnow
from campaigns.errors import ConfigurationError, InboundError
from campaigns.models import MailboxCheckpoint, ReceivedVia

log = logging.getLogger(__name__)
BATCH = 25  # messages fetched, stored and checkpointed together
LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True)
class MailboxConfig:
    """One mailbox to read: where, how securely, and where to move what was taken."""

    host: str
    port: int
    username: str
    password: str = field(repr=False)
    folder: str = "INBOX"
    security: str = "ssl"  # "ssl" (imaps://), "starttls", or "none" (loopback only)
    move_to: str = ""
    ca_file: str = ""
    verify: bool = True
    timeout: float = 60.0

    @property
    def key(self) -> str:
        """Return the checkpoint name of this mailbox (no password)."""
        return f"{self.username}@{self.host}:{self.port}/{self.folder}"


@dataclass
class PollReport:
    """What one poll of one mailbox did."""

    mailbox: str
    seen: int = 0
    stored: list[int] = field(default_factory=list)
    duplicates: int = 0
    refused: list[str] = field(default_factory=list)
    moved: int = 0


def parse_mailbox(entry: dict[str, Any] | str) -> MailboxConfig:
    """Read one IMAP_MAILBOXES entry: {"url": "imaps://user:pass@host:993/INBOX", ...}."""
    options = {"url": entry} if isinstance(entry, str) else dict(entry)
    url = urlsplit(str(options.get("url", "")))
    query = {k: v[-1] for k, v in parse_qs(url.query).items()}
    security = {"imaps": "ssl", "imap+starttls": "starttls", "imap": "none"}.get(url.scheme)
    if security is None or not url.hostname or not url.username:
        raise ConfigurationError("An IMAP mailbox URL looks like imaps://user:pass@host/INBOX "
                                 "(or imap+starttls://…).")
    if security == "none" and (options.get("starttls") or query.get("starttls") == "true"):
        security = "starttls"
    if security == "none" and url.hostname not in LOOPBACK:
        raise ConfigurationError(f"Refusing to send the password for {url.hostname} "
                                 "unencrypted: use imaps:// or imap+starttls://.")
    return MailboxConfig(
        host=url.hostname, port=url.port or (993 if security == "ssl" else 143),
        username=unquote(url.username), password=unquote(url.password or ""),
        folder=unquote(url.path.lstrip("/")) or "INBOX",
        security=security, move_to=str(options.get("move_to", query.get("move_to", ""))),
        ca_file=str(options.get("ca_file", "")), verify=bool(options.get("verify", True)),
        timeout=float(options.get("timeout", 60)))


def configured_mailboxes() -> list[MailboxConfig]:
    """Return the mailboxes of the IMAP_MAILBOXES setting (a list or its JSON text)."""
    entries = current_app.config["IMAP_MAILBOXES"] or []
    if isinstance(entries, str):
        entries = json.loads(entries)
    if isinstance(entries, dict):
        entries = [entries]
    return [parse_mailbox(entry) for entry in entries]


def _tls_context(config: MailboxConfig) -> ssl.SSLContext:
    """Return the TLS context for a mailbox (system CAs, or its own CA file)."""
    context = ssl.create_default_context(cafile=config.ca_file or None)
    if not config.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


@contextmanager
def connect(config: MailboxConfig) -> Iterator[IMAPClient]:
    """Open, secure and log in to a mailbox's server; log out at the end."""
    context = _tls_context(config)
    client = IMAPClient(config.host, port=config.port, ssl=config.security == "ssl",
                        ssl_context=context, timeout=config.timeout)
    try:
        if config.security == "starttls":
            client.starttls(context)
        client.login(config.username, config.password)
        yield client
    finally:
        try:
            client.logout()
        except Exception:  # noqa: BLE001 - the connection is going away anyway
            client.shutdown()


def poll(config: MailboxConfig, client: IMAPClient | None = None) -> PollReport:
    """Store every message that arrived since the checkpoint; commit batch by batch."""
    if client is None:
        with connect(config) as own:
            return poll(config, own)
    info = client.select_folder(config.folder, readonly=not config.move_to)
    checkpoint = _checkpoint(config.key, int(info[b"UIDVALIDITY"]))
    report = PollReport(config.key)
    uids = sorted(u for u in client.search(["UID", f"{checkpoint.last_uid + 1}:*"])
                  if u > checkpoint.last_uid)
    for start in range(0, len(uids), BATCH):
        taken = _store_batch(client, uids[start:start + BATCH], checkpoint, report)
        db.session.commit()
        report.moved += _move(client, config, taken)
    checkpoint.polled_at = utcnow()
    checkpoint.last_error = "; ".join(report.refused)[-2000:] if report.refused else ""
    db.session.commit()
    return report


def _checkpoint(key: str, uidvalidity: int) -> MailboxCheckpoint:
    """Return a mailbox's checkpoint, starting again when UIDVALIDITY changed."""
    checkpoint = db.session.scalar(db.select(MailboxCheckpoint)
                                   .where(MailboxCheckpoint.mailbox == key))
    if checkpoint is None:
        checkpoint = MailboxCheckpoint(mailbox=key, uidvalidity=uidvalidity, last_uid=0)
        db.session.add(checkpoint)
    elif checkpoint.uidvalidity != uidvalidity:
        # UIDs were renumbered: read everything again; deduplication drops what we have.
        checkpoint.uidvalidity, checkpoint.last_uid = uidvalidity, 0
    db.session.flush()
    return checkpoint


def _store_batch(client: IMAPClient, uids: list[int], checkpoint: MailboxCheckpoint,
                 report: PollReport) -> list[int]:
    """Fetch and store one batch; return the UIDs now safely stored."""
    limit = current_app.config["INBOUND_MAX_BYTES"]
    sizes = client.fetch(uids, ["RFC822.SIZE"])
    wanted = [u for u in uids if sizes.get(u, {}).get(b"RFC822.SIZE", 0) <= limit]
    report.refused += [f"UID {u}: over {limit} bytes, left in the mailbox"
                       for u in uids if u not in wanted]
    bodies = client.fetch(wanted, ["BODY.PEEK[]"]) if wanted else {}
    fetched = [u for u in wanted if bodies.get(u, {}).get(b"BODY[]") is not None]
    report.refused += [f"UID {u}: vanished before it could be fetched"
                       for u in wanted if u not in fetched]
    outcomes = store_many([bodies[u][b"BODY[]"] for u in fetched], ReceivedVia.IMAP)
    taken = []
    for uid, outcome in zip(fetched, outcomes, strict=True):
        if isinstance(outcome, InboundError):
            report.refused.append(f"UID {uid}: {outcome.message}")
            continue
        taken.append(uid)
        if outcome.created:
            report.stored.append(outcome.id)
        else:
            report.duplicates += 1
    report.seen += len(uids)
    checkpoint.last_uid = max(checkpoint.last_uid, *uids)
    return taken


def _move(client: IMAPClient, config: MailboxConfig, uids: list[int]) -> int:
    """Move stored messages to the configured folder; never deletes anything else."""
    if not config.move_to or not uids:
        return 0
    if not client.folder_exists(config.move_to):
        client.create_folder(config.move_to)
    if client.has_capability("MOVE"):
        client.move(uids, config.move_to)
    elif client.has_capability("UIDPLUS"):
        client.copy(uids, config.move_to)
        client.add_flags(uids, [b"\\Deleted"], silent=True)
        client.uid_expunge(uids)  # exactly these UIDs, never other deleted mail
    else:
        log.warning("%s supports neither MOVE nor UIDPLUS: leaving messages in place",
                    config.host)
        return 0
    return len(uids)


def watch(config: MailboxConfig, stop: threading.Event, on_report: Callable[[PollReport], None],
          *, check_every: float = 1.0, renew_after: float = 24 * 60) -> None:
    """Poll, then wait with IDLE (or sleep) for new mail, until `stop` is set."""
    while not stop.is_set():
        try:
            with connect(config) as client:
                on_report(poll(config, client))
                while not stop.is_set():
                    _wait_for_mail(client, stop, check_every, renew_after)
                    on_report(poll(config, client))
        except (OSError, ssl.SSLError, IMAPClientError, InboundError, SQLAlchemyError) as exc:
            db.session.rollback()
            log.warning("IMAP %s: %s; reconnecting in 10 s", config.key, exc)
            stop.wait(10)


def _wait_for_mail(client: IMAPClient, stop: threading.Event, check_every: float,
                   renew_after: float) -> None:
    """Return when the server reports a change, after renew_after seconds, or on stop."""
    if not client.has_capability("IDLE"):
        stop.wait(max(check_every, 30.0))
        return
    client.idle()
    started = time.monotonic()
    try:
        while not stop.is_set() and time.monotonic() - started < renew_after:
            if any(_is_change(r) for r in client.idle_check(timeout=check_every)):
                return
    finally:
        client.idle_done()


def _is_change(response: tuple) -> bool:
    """Tell whether an untagged IDLE response announces new or changed mail."""
    return len(response) > 1 and response[1] in (b"EXISTS", b"RECENT")
