"""``massage media``: moderate therapist photos and videos."""

from __future__ import annotations

from pathlib import Path

import attrs
import click

from massage_cli.context import CliContext
from massage_cli.output import emit, emit_one

COLUMNS = ["id", "therapist_id", "kind", "content_type", "size_bytes", "status", "created_at"]


@click.group()
def media() -> None:
    """Therapist photos and videos (pending until approved)."""


@media.command("pending")
@click.option("--offset", default=0, show_default=True)
@click.option("--limit", default=50, show_default=True)
@click.pass_obj
def pending(obj: CliContext, offset: int, limit: int) -> None:
    """Media waiting for review, oldest first."""
    views = obj.platform().media.pending(obj.actor(), offset=offset, limit=limit)
    emit([attrs.asdict(v) for v in views], COLUMNS, obj.output)


@media.command("approve")
@click.argument("medium_id")
@click.pass_obj
def approve(obj: CliContext, medium_id: str) -> None:
    """Approve a medium: it is public while its therapist is."""
    view = obj.platform().media.approve(obj.actor(), medium_id)
    if obj.output == "table":
        click.echo(f"{view.id} approved")
    else:
        emit_one(attrs.asdict(view), obj.output)


@media.command("reject")
@click.argument("medium_id")
@click.option("--reason", required=True)
@click.pass_obj
def reject(obj: CliContext, medium_id: str, reason: str) -> None:
    """Reject a medium with a reason."""
    view = obj.platform().media.reject(obj.actor(), medium_id, reason)
    if obj.output == "table":
        click.echo(f"{view.id} rejected: {view.rejection_reason}")
    else:
        emit_one(attrs.asdict(view), obj.output)


@media.command("save")
@click.argument("medium_id")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.pass_obj
def save(obj: CliContext, medium_id: str, path: Path) -> None:
    """Write a medium's bytes to PATH (to look at it before deciding)."""
    data = obj.platform().media.content(obj.actor(), medium_id)
    path.write_bytes(data)
    click.echo(f"{len(data)} bytes written to {path}")
