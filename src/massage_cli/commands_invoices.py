"""``massage invoices``: the finance queue of invoice requests -- list, issue, void (an admin token with
``invoices.manage``: finance or superadmin; decision 0030).

Customers request invoices through the embedding app (``platform.invoices.request``); the back office
issues them here through the configured issuer (the sandbox unless the embedder wires a real one).  The
delivery email is shown masked; the title and the credit code in full.
"""

from __future__ import annotations

from typing import Any

import click

from massage_cli.context import CliContext
from massage_cli.output import emit, emit_one
from massage_core.services.invoices import InvoiceView

COLUMNS = ["id", "order_id", "state", "title_kind", "title_name", "credit_code", "email", "amount", "number",
           "issued_on", "requested_at", "void_reason", "needs_reissue"]


def invoice_row(v: InvoiceView) -> dict[str, Any]:
    return {"id": v.id, "order_id": v.order_id, "state": v.state.value, "title_kind": v.title_kind.value,
            "title_name": v.title_name, "credit_code": v.credit_code or "", "email": v.email,
            "amount": str(v.amount) if v.amount is not None else "", "number": v.number or "",
            "issued_on": v.issued_on.isoformat() if v.issued_on is not None else "",
            "requested_at": v.requested_at.to_iso8601_string(), "void_reason": v.void_reason or "",
            "needs_reissue": v.needs_reissue}


@click.group()
def invoices() -> None:
    """Invoices (发票) for paid orders: the queue of requests, issue, void."""


@invoices.command("list")
@click.option("--state", type=click.Choice(["requested", "issued", "voided"]), default="requested",
              show_default=True, help="Which invoices: the queue to issue, issued ones or voided ones.")
@click.option("--offset", type=int, default=0)
@click.option("--limit", type=int, default=50)
@click.pass_obj
def list_invoices(obj: CliContext, state: str, offset: int, limit: int) -> None:
    """List invoices in a state, oldest request first."""
    found = obj.platform().invoices.list(obj.actor(), state=state, offset=offset, limit=limit)
    emit([invoice_row(v) for v in found], COLUMNS, obj.output)


@invoices.command("issue")
@click.argument("invoice_id")
@click.pass_obj
def issue(obj: CliContext, invoice_id: str) -> None:
    """Issue a requested invoice for what the customer paid net of refunds."""
    done = obj.platform().invoices.issue(obj.actor(), invoice_id)
    emit_one(invoice_row(done), obj.output)


@invoices.command("void")
@click.argument("invoice_id")
@click.option("--reason", required=True, help="Why (kept with the invoice and in the audit log).")
@click.pass_obj
def void(obj: CliContext, invoice_id: str, reason: str) -> None:
    """Void an invoice (or decline a request); the order may then get a new one."""
    done = obj.platform().invoices.void(obj.actor(), invoice_id, reason)
    click.echo(f"{done.id} voided ({done.void_reason})")
