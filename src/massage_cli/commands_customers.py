"""``massage customers``: the back office's masked view of a customer profile (decision 0022)."""

from __future__ import annotations

import attrs
import click

from massage_cli.context import CliContext
from massage_cli.output import emit_one


@click.group()
def customers() -> None:
    """Customer profiles (support and superadmins; health data stays masked)."""


@customers.command("show")
@click.argument("account_id")
@click.pass_obj
def show(obj: CliContext, account_id: str) -> None:
    """A customer's profile, masked: genders, age band and "declared conditions: yes/no". Audited."""
    view = obj.platform().customers.profile_of(obj.actor(), account_id)
    row = attrs.asdict(view)
    if obj.output == "table":
        row["declared_conditions"] = "yes" if view.declared_conditions else "no"
    emit_one(row, obj.output)
