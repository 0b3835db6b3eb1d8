"""``massage audit``: the tamper-evident operation log."""

from __future__ import annotations

import click

from massage_cli.context import CliContext
from massage_cli.output import emit
from massage_core.domain.errors import IntegrityError


@click.group()
def audit() -> None:
    """Operation log."""


@audit.command("verify")
@click.pass_obj
def verify(obj: CliContext) -> None:
    """Walk the hash chain; name the first broken entry and exit non-zero if there is one."""
    report = obj.platform().audit.verify(obj.actor())
    if not report.ok:
        raise IntegrityError(
            f"audit chain broken at entry #{report.broken_at}"
            f"{f' ({report.broken_id})' if report.broken_id else ''}: {report.reason}",
            code="audit.broken",
        )
    click.echo(f"audit chain intact: {report.checked} entries")


@audit.command("list")
@click.option("--after", default=0, show_default=True, help="Show entries after this sequence number.")
@click.option("--limit", default=50, show_default=True)
@click.pass_obj
def list_entries(obj: CliContext, after: int, limit: int) -> None:
    """Show entries in chain order."""
    entries = obj.platform().audit.entries(obj.actor(), after_sequence=after, limit=limit)
    rows = [{"sequence": e.sequence, "at": e.at, "actor": e.actor, "action": e.action, "target": e.target,
             "outcome": e.outcome.value, "details": ";".join(f"{k}={v}" for k, v in e.details)} for e in entries]
    emit(rows, ["sequence", "at", "actor", "action", "target", "outcome", "details"], obj.output)
