"""``campaigns subscribers ...``: import a file with a progress bar, export, erase."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from campaigns.db import db
from campaigns.errors import CampaignsError


@click.group("subscribers", help="Import, export and erase subscribers.")
def subscribers_group() -> None:
    """Group of subscriber commands."""


@subscribers_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--tag", "tags", multiple=True, help="Tag everyone in the file (repeatable).")
@click.option("--map", "maps", multiple=True, metavar="COLUMN=FIELD",
              help="Say what a column holds: email, first_name, last_name, name, company, "
                   "tags, ignore or fields.KEY (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@with_appcontext
def import_command(file: Path, tags: tuple[str, ...], maps: tuple[str, ...],
                   as_json: bool) -> None:
    """Import a CSV or vCard file (LinkedIn, Google, Outlook exports work as they are)."""
    from campaigns.core import imports
    from campaigns.core.imports.mapping import parse_map_options
    from campaigns.models import ImportStatus

    try:
        imp = imports.create_import(file.read_bytes(), file.name, tags=tags,
                                    overrides=parse_map_options(maps))
        imp.status = ImportStatus.RUNNING  # run here, with a progress bar, not in a worker
        db.session.commit()
        with click.progressbar(length=imp.total_rows, label="Importing", file=sys.stderr,
                               show_pos=True) as bar:
            imports.run_import(imp, on_chunk=lambda i: _progress(bar, i))
            bar.update(imp.total_rows - bar.pos)
    except CampaignsError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from exc
    db.session.commit()
    _print_report(imports.public_report(imp), as_json)


def _progress(bar, imp) -> None:  # noqa: ANN001 - click's progress bar, an import
    """Commit a finished chunk and move the bar to the rows done."""
    db.session.commit()
    bar.update(imp.processed_rows - bar.pos)


def _print_report(report: dict, as_json: bool) -> None:
    """Print the counts and every skipped row."""
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(f"{report['created']} added, {report['updated']} updated, "
               f"{report['unchanged']} unchanged, {report['merged']} merged duplicates, "
               f"{report['skipped']} skipped (of {report['total_rows']} rows).")
    for entry in report["errors"]:
        click.echo(f"  line {entry['line']}: {entry['reason']}"
                   + (f" ({entry['email']})" if entry["email"] else ""))


@subscribers_group.command("export")
@click.argument("output", type=click.File("w", encoding="utf-8", lazy=True), default="-")
@click.option("--tag", default="", help="Only people with this tag.")
@click.option("--status", default="", help="subscribed, pending, unsubscribed or suppressed.")
@with_appcontext
def export_command(output, tag: str, status: str) -> None:  # noqa: ANN001 - a click file
    """Write subscribers as CSV (to OUTPUT or standard output)."""
    from campaigns.core.export import csv_lines, subscriber_rows
    from campaigns.core.subscriber_list import ListFilter

    for line in csv_lines(subscriber_rows(ListFilter(tag=tag, status=status).conditions())):
        output.write(line)


@subscribers_group.command("erase")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def erase_command(email: str, yes: bool) -> None:
    """Erase a person for good (a privacy request); their address stays suppressed."""
    from campaigns.core import privacy, subscribers

    person = subscribers.find_by_email(email)
    if person is None:
        raise click.ClickException(f"No subscriber with the address {email}.")
    if not yes:
        click.confirm(f"Erase everything about {person.email}?", abort=True)
    files = privacy.erase_person(person)
    db.session.commit()
    privacy.remove_files(files)
    click.echo(f"Erased {email}; the address stays on the suppression list as a hash.")
