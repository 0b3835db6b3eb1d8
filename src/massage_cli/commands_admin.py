"""``massage admin``: the first superadmin and admin sessions."""

from __future__ import annotations

import click

from massage_cli.context import CliContext
from massage_cli.output import emit_one
from massage_core.domain.access import Actor


@click.group()
def admin() -> None:
    """Admins and their sessions."""


@admin.command("create-superadmin")
@click.option("--email", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, envvar="MASSAGE_ADMIN_PASSWORD")
@click.option("--name", "display_name", default="")
@click.pass_obj
def create_superadmin(obj: CliContext, email: str, password: str, display_name: str) -> None:
    """Create the first superadmin (only while none exists)."""
    view = obj.platform().users.create_superadmin(Actor.system(), email, password, display_name=display_name)
    click.echo(f"superadmin {view.id} created ({view.email})")


@admin.command("login")
@click.option("--email", required=True)
@click.option("--password", prompt=True, hide_input=True, envvar="MASSAGE_ADMIN_PASSWORD")
@click.option("--ip", default="", help="Recorded in the login records.")
@click.pass_obj
def login(obj: CliContext, email: str, password: str, ip: str) -> None:
    """Log in and print a session token (export it as MASSAGE_TOKEN)."""
    result = obj.platform().accounts.login_with_password(email, password, ip=ip, device="massage-cli")
    if obj.output == "table":
        click.echo(result.token)
        return
    emit_one({"token": result.token, "account_id": result.account_id, "expires_at": result.expires_at},
             obj.output)


@admin.command("grant")
@click.argument("account_id")
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice(["customer", "therapist", "admin"]))
@click.option("--admin-role", "admin_roles", multiple=True,
              type=click.Choice(["support", "finance", "auditor", "superadmin"]))
@click.pass_obj
def grant(obj: CliContext, account_id: str, roles: tuple[str, ...], admin_roles: tuple[str, ...]) -> None:
    """Set an account's roles (superadmin only)."""
    view = obj.platform().users.set_roles(obj.actor(), account_id, roles, admin_roles)
    click.echo(f"{view.id}: roles {','.join(view.roles)} admin roles {','.join(view.admin_roles) or '-'}")
