"""The ``massage`` command: global options and error handling; commands live in their own modules."""

from __future__ import annotations

import sys
from typing import Any

import click

from massage_cli.context import DEFAULT_KEY_FILE, CliContext
from massage_core.bootstrap import DEFAULT_URL
from massage_core.domain.errors import MassageError


class MassageGroup(click.Group):
    """Turns library errors into one clear line and a non-zero exit (a traceback with --debug)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MassageError as exc:
            obj = ctx.find_object(CliContext)
            if obj is not None and obj.debug:
                raise
            click.echo(f"error [{exc.code}]: {exc.message}", err=True)
            sys.exit(1)


@click.group(cls=MassageGroup)
@click.option("--db", "db_url", envvar="MASSAGE_DB", default=DEFAULT_URL, show_default=True,
              help="Database URL: sqlite:///file.db or postgresql+psycopg://user@host/db.")
@click.option("--keys", "key_file", envvar="MASSAGE_KEY_FILE", default=DEFAULT_KEY_FILE, show_default=True,
              help="Key ring file (or put the JSON in MASSAGE_KEYS).")
@click.option("--format", "output", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True, help="Output format.")
@click.option("--token", envvar="MASSAGE_TOKEN", default=None, help="Admin session token (from `admin login`).")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.pass_context
def cli(ctx: click.Context, db_url: str, key_file: str, output: str, token: str | None, debug: bool) -> None:
    """Back office of the massage_core marketplace engine."""
    context = CliContext(db_url=db_url, key_file=key_file, output=output, debug=debug, token=token)
    ctx.obj = context
    ctx.call_on_close(context.reset_platform)


def _register() -> None:
    from massage_cli import commands_admin, commands_audit, commands_db, commands_keys, commands_users, demo

    for group in (commands_db.db, commands_admin.admin, commands_users.users, commands_keys.keys,
                  commands_audit.audit, demo.demo):
        cli.add_command(group)
    from massage_cli import commands_catalog, commands_media, commands_therapists

    for group in (commands_catalog.catalog, commands_therapists.therapists, commands_media.media):
        cli.add_command(group)
    from massage_cli import commands_coupons

    cli.add_command(commands_coupons.coupons)
    from massage_cli import commands_jobs

    cli.add_command(commands_jobs.jobs)
    from massage_cli import commands_orders

    cli.add_command(commands_orders.orders)
    from massage_cli import commands_customers

    cli.add_command(commands_customers.customers)
    from massage_cli import commands_ledger

    cli.add_command(commands_ledger.ledger)
    from massage_cli import commands_earnings

    cli.add_command(commands_earnings.earnings)
    from massage_cli import commands_invoices

    cli.add_command(commands_invoices.invoices)
    from massage_cli import commands_payouts

    cli.add_command(commands_payouts.payouts)
    from massage_cli import commands_quality, commands_sanctions

    cli.add_command(commands_sanctions.penalties)
    commands_therapists.therapists.add_command(commands_quality.rank)
    from massage_cli import commands_reviews

    cli.add_command(commands_reviews.reviews)
    from massage_cli import commands_complaints, commands_feedback

    cli.add_command(commands_complaints.complaints)
    cli.add_command(commands_feedback.feedback)
    from massage_cli import commands_outbox

    cli.add_command(commands_outbox.outbox)
    from massage_cli import commands_announcements

    cli.add_command(commands_announcements.announcements)


_register()
