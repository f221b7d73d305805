"""The ``campaigns`` command: Flask's CLI over create_app, plus users, run and worker."""

from __future__ import annotations

import os
import sys

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, routes_command, shell_command, with_appcontext

from campaigns.db import db
from campaigns.errors import CampaignsError


def _create_app() -> Flask:
    from campaigns import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False,
             set_debug_flag=False, help="Conversation campaigns for your email list.")
def main() -> None:
    """Entry point of the ``campaigns`` console script."""


@click.group("users", help="Manage who can log in.")
def users_group() -> None:
    """Group of user commands."""


@users_group.command("create")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--role", type=click.Choice(["owner", "member"]), default="member",
              show_default=True)
@click.option("--name", default="", help="Display name.")
@with_appcontext
def create_user_command(email: str, password_stdin: bool, role: str, name: str) -> None:
    """Create a user who can log in (the first user is always an owner)."""
    from campaigns.core import users
    from campaigns.models import Role

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = users.create_user(email, password, role=Role(role), name=name)
    except CampaignsError as exc:
        raise click.ClickException(exc.message) from exc
    db.session.commit()
    click.echo(f"Created {user.role} {user.email}.")


@users_group.command("token")
@click.argument("email")
@click.option("--name", default="CLI", show_default=True, help="What the token is for.")
@with_appcontext
def token_command(email: str, name: str) -> None:
    """Print a new API token for the user (shown once; only its hash is kept)."""
    from campaigns.core import users

    try:
        token = users.issue_token(users.find_user(email), name)
    except CampaignsError as exc:
        raise click.ClickException(exc.message) from exc
    db.session.commit()
    click.echo(token)


@users_group.command("list")
@with_appcontext
def list_users_command() -> None:
    """List users and their roles."""
    from campaigns.models import User

    for user in db.session.scalars(db.select(User).order_by(User.email)):
        click.echo(f"{user.email}\t{user.role}\t{'active' if user.active else 'disabled'}")


@click.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--debug", is_flag=True, help="Reload on code changes and show tracebacks.")
@with_appcontext
def run_command(host: str, port: int, debug: bool) -> None:
    """Serve the app; with no broker configured, jobs run in this process."""
    from werkzeug.serving import run_simple

    from campaigns import jobs

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if jobs.is_in_process(app) and os.environ.get("WERKZEUG_RUN_MAIN") != "false":
        jobs.start_in_process_worker(app)
        click.echo("One-process mode: jobs run in this process (no broker configured).")
    click.echo(f"Open http://{host}:{port}/ to log in (the first visit creates the owner).")
    run_simple(host, port, app, threaded=True, use_reloader=debug, use_debugger=debug)


@click.command("worker")
@click.option("--processes", "-p", default=os.cpu_count() or 1, show_default=True, type=int)
@click.option("--threads", "-t", default=8, show_default=True, type=int)
@click.option("--queues", "-Q", multiple=True, help="Only consume these queues.")
@with_appcontext
def worker_command(processes: int, threads: int, queues: tuple[str, ...]) -> None:
    """Run Dramatiq workers for the configured broker (start as many as you like)."""
    from campaigns import jobs

    if jobs.is_in_process(current_app):
        raise click.ClickException(
            "No broker configured (CAMPAIGNS_BROKER_URL): 'campaigns run' runs jobs in-process.")
    argv = [sys.executable, "-m", "dramatiq", "workers.main",
            "--processes", str(processes), "--threads", str(threads)]
    if queues:
        argv += ["--queues", *queues]
    os.execvp(argv[0], argv)


def init_app(app: Flask) -> None:
    """Add the project's commands to the app's CLI (``flask --app campaigns`` sees them too)."""
    for command in (users_group, run_command, worker_command, shell_command, routes_command):
        app.cli.add_command(command)
    from campaigns.cli_subscribers import subscribers_group  # subscribers area

    app.cli.add_command(subscribers_group)
    from campaigns.mail.intake.commands import inbound_group

    app.cli.add_command(inbound_group)
    from campaigns.cli_campaigns import campaigns_group

    app.cli.add_command(campaigns_group)
