"""``massage jobs``: the timers, for cron (decision 0021)."""

from __future__ import annotations

import click

from massage_cli.context import CliContext
from massage_cli.output import emit
from massage_core.domain.access import Actor


@click.group()
def jobs() -> None:
    """Timers run by cron on the server (as the system)."""


@jobs.command("run-due")
@click.option("--limit", "limit", default=500, show_default=True, help="At most this many orders per rule.")
@click.pass_obj
def run_due(obj: CliContext, limit: int) -> None:
    """Fire what is due now: expire unpaid orders, time out offers, auto-complete, suspend expired badges, send
    reminders, settle earnings T+N days after completion.  Safe to run twice at once; prints the counts per rule."""
    report = obj.platform().jobs.run_due(Actor.system(), limit_per_rule=limit)
    rows = [{"rule": name, "fired": count.fired, "skipped": count.skipped} for name, count in report.rules().items()]
    emit(rows, ["rule", "fired", "skipped"], obj.output)
