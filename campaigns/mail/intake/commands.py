"""`campaigns inbound …`: poll, listen, import, reprocess and inspect inbound mail.

Without a broker (one-process mode) the commands process what they stored before they
return; with one, the workers do. `inspect` needs neither a database nor the network.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from campaigns.errors import CampaignsError


@click.group("inbound", help="Take in replies: poll IMAP, listen for LMTP, import, inspect.")
def inbound_group() -> None:
    """Group of inbound mail commands."""


@inbound_group.command("inspect")
@click.argument("files", nargs=-1, required=True)
def inspect_command(files: tuple[str, ...]) -> None:
    """Print what each message file is, as JSON Lines (no database, no network)."""
    from campaigns.mail.inbound.inspect import inspect_paths

    sys.exit(inspect_paths(list(files), sys.stdout))


@inbound_group.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@with_appcontext
def import_command(path: Path) -> None:
    """Store the messages of an .eml file, a folder of them, an mbox or a Maildir."""
    from campaigns.mail.intake.files import import_path

    report = _or_fail(lambda: import_path(path))
    click.echo(f"Stored {len(report.stored)} new message(s); {report.duplicates} already known; "
               f"{len(report.refused)} refused.")
    for label, reason in report.refused:
        click.echo(f"  refused {label}: {reason}", err=True)
    _process_here(report.stored)


@inbound_group.command("poll")
@click.option("--mailbox", "urls", multiple=True,
              help="Poll this imaps://user:pass@host/FOLDER instead of IMAP_MAILBOXES.")
@click.option("--idle", is_flag=True, help="Keep watching with IMAP IDLE (or by polling).")
@click.option("--seconds", default=0.0, help="With --idle: stop after this long (0 = never).")
@with_appcontext
def poll_command(urls: tuple[str, ...], idle: bool, seconds: float) -> None:
    """Store new mail from the reply mailboxes (never marks it read, never deletes)."""
    from campaigns.mail.intake import imap

    configs = _or_fail(lambda: [imap.parse_mailbox(u) for u in urls] or
                       imap.configured_mailboxes())
    if not configs:
        raise click.ClickException("No mailbox: set IMAP_MAILBOXES or pass --mailbox URL.")
    if idle:
        _watch(configs, seconds)
        return
    for config in configs:
        _report(_or_fail(lambda c=config: imap.poll(c)))


def _watch(configs: list, seconds: float) -> None:
    """Watch every mailbox in its own thread until interrupted or `seconds` pass."""
    from campaigns.mail.intake import imap

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    stop = threading.Event()

    def run(config: imap.MailboxConfig) -> None:
        with app.app_context():
            imap.watch(config, stop, _report)

    threads = [threading.Thread(target=run, args=(c,), daemon=True) for c in configs]
    for thread in threads:
        thread.start()
    click.echo(f"Watching {len(configs)} mailbox(es); Ctrl-C stops.")
    _wait(stop, seconds)
    for thread in threads:
        thread.join(timeout=30)


def _report(report) -> None:  # noqa: ANN001 - an imap.PollReport
    """Print what one poll did, then process what it stored when there is no broker."""
    click.echo(f"{report.mailbox}: {report.seen} new, {len(report.stored)} stored, "
               f"{report.duplicates} already known, {report.moved} moved.")
    for reason in report.refused:
        click.echo(f"  {reason}", err=True)
    _process_here(report.stored)


@inbound_group.command("listen")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8024, show_default=True, type=int)
@click.option("--lmtp", is_flag=True, help="Speak LMTP (one answer per recipient), not SMTP.")
@click.option("--seconds", default=0.0, help="Stop after this long (0 = run until stopped).")
@with_appcontext
def listen_command(host: str, port: int, lmtp: bool, seconds: float) -> None:
    """Accept replies from a mail server over LMTP or SMTP and store each one."""
    from campaigns import jobs
    from campaigns.mail.intake.listener import make_listener
    from campaigns.mail.intake.pipeline import process_now

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    after_store = process_now if jobs.is_in_process(app) else None
    listener = make_listener(app, host, port, lmtp=lmtp, after_store=after_store)
    listener.start()
    click.echo(f"Listening for {'LMTP' if lmtp else 'SMTP'} on {host}:{port}; Ctrl-C stops.")
    try:
        _wait(threading.Event(), seconds)
    finally:
        listener.stop()


@inbound_group.command("reprocess")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all-failed", is_flag=True, help="Every message whose processing failed.")
@with_appcontext
def reprocess_command(ids: tuple[int, ...], all_failed: bool) -> None:
    """Process stored messages again (after a fix); filing never duplicates anything."""
    from campaigns.core.inbound.process import reset_for_reprocessing
    from campaigns.db import db

    if not ids and not all_failed:
        raise click.UsageError("Give message ids or --all-failed.")
    found = reset_for_reprocessing(list(ids) or None, failed_only=all_failed)
    db.session.commit()
    missing = sorted(set(ids) - set(found))
    if missing:
        click.echo(f"No such message(s): {', '.join(map(str, missing))}", err=True)
    click.echo(f"Queued {len(found)} message(s) for processing.")
    _process_here(found)


def _process_here(ids: list[int]) -> None:
    """Process stored messages in this process when no broker is configured."""
    from campaigns import jobs
    from campaigns.mail.intake.pipeline import process_all

    if ids and jobs.is_in_process(current_app):
        counts = process_all(ids)
        click.echo("Processed: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))


def _wait(stop: threading.Event, seconds: float) -> None:
    """Block until Ctrl-C, SIGTERM or `seconds` pass; then set `stop`."""
    on_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set()) if on_main else None
    try:
        stop.wait(seconds or None)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        if on_main:
            signal.signal(signal.SIGTERM, previous)


def _or_fail(action):  # noqa: ANN001, ANN202
    """Run an action; show a domain error as a clean CLI error."""
    try:
        return action()
    except CampaignsError as exc:
        raise click.ClickException(exc.message) from exc
