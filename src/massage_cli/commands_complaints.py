"""``massage complaints``: the mediation queue -- list, show, take, resolve (an admin token with
``complaints.mediate``: support or superadmin; decision 0038).

Customers file complaints and therapists answer them through the embedding app (``platform.complaints``); the
back office mediates here.  ``resolve`` with ``partial_refund`` / ``full_refund`` refunds the order through the
gateway and the ledger; ``penalty`` posts a deduction from the therapist's available balance.
"""

from __future__ import annotations

import json
from typing import Any

import click

from massage_cli.context import CliContext
from massage_cli.output import emit, emit_one, plain
from massage_core.domain.complaints import ComplaintState, Outcome
from massage_core.domain.money import Money
from massage_core.services.complaint_views import ComplaintView

COLUMNS = ["id", "order_id", "state", "category", "customer_id", "therapist_id", "filed_at", "answer_due",
           "answered", "mediator", "outcome", "amount"]
TIMELINE_COLUMNS = ["at", "action", "party", "actor", "from_state", "to_state", "note"]


def complaint_row(v: ComplaintView) -> dict[str, Any]:
    return {"id": v.id, "order_id": v.order_id, "state": v.state.value, "category": v.category.value,
            "customer_id": v.customer_id, "therapist_id": v.therapist_id, "filed_at": v.filed_at,
            "answer_due": v.answer_due, "answered": v.answer is not None, "mediator": v.mediator or "",
            "outcome": v.outcome.value if v.outcome else "", "amount": str(v.amount) if v.amount else ""}


@click.group()
def complaints() -> None:
    """Complaints about orders: the mediation queue, details, take and resolve."""


@complaints.command("list")
@click.option("--state", type=click.Choice([s.value for s in ComplaintState]), default=None,
              help="Only complaints in this state (default: all).")
@click.option("--offset", type=int, default=0)
@click.option("--limit", type=int, default=50)
@click.pass_obj
def list_complaints(obj: CliContext, state: str | None, offset: int, limit: int) -> None:
    """List complaints, oldest filing first."""
    page = obj.platform().complaints.list(obj.actor(), state, offset=offset, limit=limit)
    emit([complaint_row(v) for v in page.items], COLUMNS, obj.output)


@complaints.command("show")
@click.argument("complaint_id")
@click.pass_obj
def show(obj: CliContext, complaint_id: str) -> None:
    """One complaint: details, description, the therapist's answer, the outcome and the timeline."""
    view = obj.platform().complaints.get(obj.actor(), complaint_id)
    details = {**complaint_row(view), "description": view.description, "evidence": ",".join(view.evidence),
               "answer": view.answer or "", "resolution_note": view.resolution_note or ""}
    steps = [{"at": s.at, "action": s.action.value, "party": s.party.value, "actor": s.actor,
              "from_state": s.from_state.value if s.from_state else "", "to_state": s.to_state.value,
              "note": s.note} for s in view.timeline]
    if obj.output == "json":
        document = {k: plain(v) for k, v in details.items()}
        document["timeline"] = [{k: plain(v) for k, v in s.items()} for s in steps]
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    emit_one(details, obj.output)
    click.echo("")
    emit(steps, TIMELINE_COLUMNS, obj.output)


@complaints.command("take")
@click.argument("complaint_id")
@click.option("--note", default="", help="An optional note for the timeline.")
@click.pass_obj
def take(obj: CliContext, complaint_id: str, note: str) -> None:
    """Take an open or answered complaint into mediation."""
    view = obj.platform().complaints.take(obj.actor(), complaint_id, note)
    click.echo(f"{view.id} {view.state.value}")


@complaints.command("resolve")
@click.argument("complaint_id")
@click.option("--outcome", required=True, type=click.Choice([o.value for o in Outcome]))
@click.option("--note", required=True, help="Why (shown to the customer and the therapist).")
@click.option("--amount", default=None, help="Yuan (e.g. 80 or 80.50): the partial refund or the penalty.")
@click.pass_obj
def resolve(obj: CliContext, complaint_id: str, outcome: str, note: str, amount: str | None) -> None:
    """Resolve a complaint under mediation (an answered one is taken first) with an outcome."""
    money = Money.parse_yuan(amount) if amount is not None else None
    view = obj.platform().complaints.resolve(obj.actor(), complaint_id, outcome, note, money)
    line = f"{view.id} resolved: {outcome}"
    if view.amount is not None and view.amount.fen:
        line += f" {view.amount}"
    click.echo(line)
