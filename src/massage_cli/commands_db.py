"""``massage db``: schema migrations."""

from __future__ import annotations

import click

from massage_cli.context import CliContext
from massage_core.adapters.sql.engine import make_engine
from massage_core.adapters.sql.migrate import current_revision, upgrade


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.pass_obj
def db_upgrade(obj: CliContext, revision: str) -> None:
    """Migrate the database to the newest schema (safe to run again)."""
    engine = make_engine(obj.db_url)
    try:
        upgrade(engine, revision)
        click.echo(f"database at revision {current_revision(engine)}")
    finally:
        engine.dispose()


@db.command("current")
@click.pass_obj
def db_current(obj: CliContext) -> None:
    """Print the schema revision of the database."""
    engine = make_engine(obj.db_url)
    try:
        click.echo(current_revision(engine) or "empty (run `massage db upgrade`)")
    finally:
        engine.dispose()
