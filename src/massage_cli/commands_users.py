"""``massage users``: search, show, suspend and reactivate accounts."""

from __future__ import annotations

from typing import Any

import attrs
import click

from massage_cli.context import CliContext
from massage_cli.output import emit, emit_one
from massage_core.domain.errors import ValidationError
from massage_core.services.views import AccountView

LIST_COLUMNS = ["id", "status", "roles", "admin_roles", "display_name", "phone", "email", "login_methods",
                "created_at"]


def _row(view: AccountView) -> dict[str, Any]:
    return attrs.asdict(view, recurse=False)


@click.group()
def users() -> None:
    """User accounts (support, auditors, superadmins)."""


@users.command("list")
@click.option("--phone", default=None, help="Exact phone number (any common spelling).")
@click.option("--email", default=None, help="Exact email address.")
@click.option("--status", type=click.Choice(["active", "suspended"]), default=None)
@click.option("--offset", default=0, show_default=True)
@click.option("--limit", default=50, show_default=True)
@click.pass_obj
def list_users(obj: CliContext, phone: str | None, email: str | None, status: str | None, offset: int,
               limit: int) -> None:
    """List accounts, or find one by phone or email (through the blind index)."""
    platform = obj.platform()
    actor = obj.actor()
    if phone is not None or email is not None:
        if status is not None:
            raise ValidationError("--status does not combine with --phone/--email", code="search.criteria")
        views = platform.users.search(actor, phone=phone, email=email)
    else:
        views = platform.users.list(actor, offset=offset, limit=limit, status=status)
    emit([_row(v) for v in views], LIST_COLUMNS, obj.output)


@users.command("show")
@click.argument("account_id")
@click.option("--logins", default=10, show_default=True, help="How many login records to show (0 for none).")
@click.pass_obj
def show(obj: CliContext, account_id: str, logins: int) -> None:
    """One account (masked) and its recent login records."""
    platform = obj.platform()
    actor = obj.actor()
    emit_one(_row(platform.users.show(actor, account_id)), obj.output)
    if logins > 0:
        records = platform.users.login_records(actor, account_id, limit=logins)
        if obj.output == "table":
            click.echo("")
        emit([attrs.asdict(r) for r in records], ["at", "method", "outcome", "ip", "device"], obj.output)


@users.command("suspend")
@click.argument("account_id")
@click.option("--reason", required=True)
@click.pass_obj
def suspend(obj: CliContext, account_id: str, reason: str) -> None:
    """Suspend an account: no more logins, all sessions revoked."""
    view = obj.platform().users.suspend(obj.actor(), account_id, reason)
    click.echo(f"{view.id} suspended: {view.suspended_reason}")


@users.command("reactivate")
@click.argument("account_id")
@click.pass_obj
def reactivate(obj: CliContext, account_id: str) -> None:
    """Lift a suspension."""
    view = obj.platform().users.reactivate(obj.actor(), account_id)
    click.echo(f"{view.id} is {view.status}")
