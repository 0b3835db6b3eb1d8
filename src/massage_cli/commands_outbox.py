"""``massage outbox``: the notification outbox (decision 0041).

``run`` is for cron and acts as the system: it delivers what is due (safe to run twice at once) and prints
how many messages were sent, retried later and parked dead.  ``list``, ``counts`` and ``retry`` need a token
with ``outbox.manage`` (superadmin); ``retry`` is audited.  Message bodies are never printed.
"""

from __future__ import annotations

import click

from massage_cli.context import CliContext
from massage_cli.output import emit, emit_one
from massage_core.domain.access import Actor
from massage_core.services.notifications import OutboxView

COLUMNS = ["id", "recipient", "channel", "category", "state", "attempts", "due_at", "sent_at", "subject",
           "last_error"]


def _row(m: OutboxView) -> dict[str, object]:
    return {"id": m.id, "recipient": m.recipient, "channel": m.channel, "category": m.category, "state": m.state,
            "attempts": m.attempts, "due_at": m.due_at, "sent_at": m.sent_at, "subject": m.subject,
            "last_error": m.last_error or ""}


@click.group()
def outbox() -> None:
    """The notification outbox: deliver due messages, list them, retry dead ones."""


@outbox.command("run")
@click.option("--limit", default=100, show_default=True, help="At most this many messages in this run.")
@click.option("--lease", "lease_seconds", default=60, show_default=True,
              help="Seconds a claimed message stays with this run before another run may take it.")
@click.pass_obj
def run(obj: CliContext, limit: int, lease_seconds: int) -> None:
    """Deliver the due messages (as the system; for cron).  Prints sent, retried and dead counts."""
    report = obj.platform().notifications.dispatch(Actor.system(), limit=limit, lease_seconds=lease_seconds)
    emit_one({"sent": report.sent, "retried": report.retried, "dead": report.dead}, obj.output)


@outbox.command("list")
@click.option("--state", type=click.Choice(["pending", "sent", "dead"]), default=None,
              help="Only messages in this state.")
@click.option("--offset", type=int, default=0)
@click.option("--limit", type=int, default=50)
@click.pass_obj
def list_messages(obj: CliContext, state: str | None, offset: int, limit: int) -> None:
    """List outbox messages, oldest first (without their bodies)."""
    found = obj.platform().notifications.outbox(obj.actor(), state, offset=offset, limit=limit)
    emit([_row(m) for m in found], COLUMNS, obj.output)


@outbox.command("counts")
@click.pass_obj
def counts(obj: CliContext) -> None:
    """How many messages are pending, sent and dead."""
    emit_one(dict(obj.platform().notifications.counts(obj.actor())), obj.output)


@outbox.command("retry")
@click.argument("message")
@click.pass_obj
def retry(obj: CliContext, message: str) -> None:
    """Give the dead MESSAGE a fresh set of attempts, due now (audited)."""
    emit_one(_row(obj.platform().notifications.retry(obj.actor(), message)), obj.output)
