"""``campaigns campaigns ...``: list, send (and follow live), pause, resume, cancel, retry."""

from __future__ import annotations

import time
from collections.abc import Callable

import click
from flask import current_app
from flask.cli import with_appcontext

from campaigns import jobs
from campaigns.core import campaigns as verbs
from campaigns.core import progress
from campaigns.db import db
from campaigns.errors import CampaignsError
from campaigns.models import Campaign, CampaignStatus


@click.group("campaigns", help="Send campaigns and follow them.")
def campaigns_group() -> None:
    """Group of campaign commands."""


@campaigns_group.command("list")
@with_appcontext
def list_command() -> None:
    """List campaigns: id, status, sent/total, name."""
    campaigns = db.session.scalars(db.select(Campaign).order_by(Campaign.id)).all()
    by_campaign = progress.counts_by_campaign([c.id for c in campaigns])  # one query for all
    for campaign in campaigns:
        counts = by_campaign[campaign.id]
        click.echo(f"{campaign.id}\t{campaign.status}\t{counts.get('sent', 0)}/"
                   f"{sum(counts.values())}\t{campaign.name}")


@campaigns_group.command("send")
@click.argument("campaign_id", type=int)
@click.option("--follow", is_flag=True, help="Print the progress until sending ends.")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between lines.")
@with_appcontext
def send_command(campaign_id: int, follow: bool, interval: float) -> None:
    """Start sending a draft or scheduled campaign now (and follow it with --follow)."""
    campaign = _get(campaign_id)
    if campaign.status in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
        _run(lambda: verbs.start(campaign))
        click.echo(f"Sending campaign {campaign_id}: {campaign.name}")
    elif not follow:
        raise click.ClickException(f"Campaign {campaign_id} is already {campaign.status}.")
    if not follow:
        if jobs.is_in_process(current_app):
            click.echo("No broker is configured: 'campaigns run' sends it (its workers run "
                       "in the web process), or add --follow to send from here.")
        return
    if jobs.is_in_process(current_app):  # the real app, not the proxy: workers have no context
        jobs.start_in_process_worker(current_app._get_current_object())  # type: ignore[attr-defined]
    _follow(campaign_id, interval)


def _follow(campaign_id: int, interval: float) -> None:
    """Print one progress line per interval until the campaign stops sending."""
    previous = None
    while True:
        db.session.expire_all()
        campaign = _get(campaign_id)
        state = progress.progress(campaign, previous)
        previous = (state.counts["sent"], state.sampled_at)
        click.echo(progress_line(state))
        if campaign.status not in (CampaignStatus.SENDING, CampaignStatus.SCHEDULED):
            return
        db.session.commit()  # end the read transaction so the next look sees new rows
        time.sleep(interval)


def progress_line(state: progress.Progress) -> str:
    """Return one line: counts by state, rate and time left."""
    n = state.counts
    line = (f"{state.status}: sent {n['sent']}/{state.total} · failed {n['failed']} · "
            f"pending {n['pending'] + n['sending'] + n['held']} · uncertain {n['uncertain']}")
    if n["skipped"] or n["cancelled"]:
        line += f" · skipped {n['skipped']} · cancelled {n['cancelled']}"
    line += f" · {state.rate_per_second:.1f}/s"
    if state.eta_seconds is not None:
        line += f" · ETA {state.eta_seconds}s"
    return line


def _simple(name: str, verb: Callable[[Campaign], object], done: str) -> None:
    """Declare a command that applies one verb to a campaign."""
    @campaigns_group.command(name, help=f"{done} (by campaign id).")
    @click.argument("campaign_id", type=int)
    @with_appcontext
    def command(campaign_id: int) -> None:
        campaign = _get(campaign_id)
        _run(lambda: verb(campaign))
        click.echo(f"Campaign {campaign_id}: {done.lower()}.")


_simple("pause", verbs.pause, "Paused")
_simple("resume", verbs.resume, "Resumed")
_simple("cancel", verbs.cancel, "Cancelled")
_simple("retry-failed", verbs.retry_failed, "Failed emails queued again")


def _get(campaign_id: int) -> Campaign:
    """Return the campaign or stop with a clear message."""
    try:
        return verbs.get(campaign_id)
    except CampaignsError as exc:
        raise click.ClickException(exc.message) from exc


def _run(action: Callable[[], object]) -> None:
    """Apply a verb and commit, or stop with the domain's message."""
    try:
        action()
    except CampaignsError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from exc
    db.session.commit()
