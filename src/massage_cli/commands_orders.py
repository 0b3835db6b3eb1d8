"""``massage orders``: list every order, show one with its timeline, cancel and refund as an admin, declare a
no-show, dismiss a dispute, show an order's payment records, and watch the SOS alert queue."""

from __future__ import annotations

import json
from typing import Any

import click

from massage_cli.context import CliContext
from massage_cli.output import emit, emit_one, plain
from massage_core.domain.money import Money
from massage_core.domain.order_states import OrderState, OrderStep
from massage_core.services.order_views import OrderView, PaymentEntry

LIST_COLUMNS = ["id", "state", "customer_status", "customer_id", "therapist_id", "service_id", "start", "total",
                "paid", "refunded", "placed_at"]
TIMELINE_COLUMNS = ["at", "action", "party", "actor", "from_state", "to_state", "note"]
PAYMENT_COLUMNS = ["kind", "amount", "at", "reference", "status"]
SOS_COLUMNS = ["at", "order_id", "therapist_id", "state", "open", "note"]


def _row(view: OrderView) -> dict[str, Any]:
    return {"id": view.id, "state": view.state.value, "customer_status": view.customer_status.value,
            "customer_id": view.customer_id, "therapist_id": view.therapist_id, "service_id": view.service_id,
            "start": view.start, "total": view.total, "paid": view.paid, "refunded": view.refunded,
            "placed_at": view.placed_at}


def _details(view: OrderView) -> dict[str, Any]:
    details = {**_row(view), "end": view.end, "retained": view.retained, "refund_due": view.refund_due,
               "dispatch": view.dispatch.value, "address": view.address.line if view.address else "",
               "late_minutes": view.late_minutes,
               "allowed": [a.value for a in view.allowed], "version": view.version}
    if view.settlement is not None:
        details.update(settlement=view.settlement.cause.value, settlement_refund=view.settlement.refund,
                       settlement_therapist=view.settlement.therapist_compensation,
                       settlement_platform=view.settlement.platform_retained)
    return details


def _step(step: OrderStep) -> dict[str, Any]:
    return {"at": step.at, "action": step.action.value, "party": step.party.value, "actor": step.actor,
            "from_state": step.from_state.value if step.from_state is not None else None,
            "to_state": step.to_state.value, "note": step.note}


def _entry(entry: PaymentEntry) -> dict[str, Any]:
    return {"kind": entry.kind, "amount": entry.amount, "at": entry.at, "reference": entry.reference,
            "status": entry.status}


@click.group()
def orders() -> None:
    """Orders (support and superadmins): list, show with timeline, cancel, refund, no-show, dismiss, payments,
    the SOS alert queue."""


@orders.command("list")
@click.option("--state", type=click.Choice([s.value for s in OrderState]), default=None,
              help="Only orders in this state.")
@click.option("--customer", default=None, metavar="ACC", help="Only the orders this customer placed (audited).")
@click.option("--therapist", default=None, metavar="ACC",
              help="Only the orders assigned or offered to this therapist (audited).")
@click.option("--offset", default=0, show_default=True)
@click.option("--limit", default=50, show_default=True)
@click.pass_obj
def list_orders(obj: CliContext, state: str | None, customer: str | None, therapist: str | None, offset: int,
                limit: int) -> None:
    """Every order, newest first; one person's order history with --customer / --therapist."""
    page = obj.platform().orders.list_all(obj.actor(), state, offset=offset, limit=limit, customer=customer,
                                          therapist=therapist)
    emit([_row(v) for v in page.orders], LIST_COLUMNS, obj.output)


@orders.command("show")
@click.argument("order_id")
@click.pass_obj
def show(obj: CliContext, order_id: str) -> None:
    """One order: details, the cancellation settlement if any, and its timeline."""
    view = obj.platform().orders.get(obj.actor(), order_id)
    details, steps = _details(view), [_step(s) for s in view.timeline]
    if obj.output == "json":
        document = {k: plain(v) for k, v in details.items()}
        document["timeline"] = [{k: plain(v) for k, v in s.items()} for s in steps]
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    emit_one(details, obj.output)
    click.echo("")
    emit(steps, TIMELINE_COLUMNS, obj.output)


@orders.command("cancel")
@click.argument("order_id")
@click.option("--reason", required=True, help="Why the platform cancels (recorded in the timeline).")
@click.pass_obj
def cancel(obj: CliContext, order_id: str, reason: str) -> None:
    """Cancel an order as the platform: the policy settles the split and the refund goes back at once."""
    view = obj.platform().orders.cancel(obj.actor(), order_id, reason)
    line = f"{view.id} cancelled -> {view.state.value}; refunded {view.refunded} of {view.paid} paid"
    if view.settlement is not None and view.paid.fen > 0:
        line += (f" (therapist {view.settlement.therapist_compensation}, platform "
                 f"{view.settlement.platform_retained})")
    click.echo(line)


@orders.command("refund")
@click.argument("order_id")
@click.option("--amount", default=None, help="Yuan to refund, e.g. 120.50 (default: all that is retained).")
@click.pass_obj
def refund(obj: CliContext, order_id: str, amount: str | None) -> None:
    """Refund a disputed order, or retry the refund due of a cancelled one."""
    money = Money.parse_yuan(amount) if amount is not None else None
    view = obj.platform().orders.refund(obj.actor(), order_id, money)
    click.echo(f"{view.id} {view.state.value}; refunded {view.refunded} of {view.paid} paid")


@orders.command("no-show")
@click.argument("order_id")
@click.pass_obj
def no_show(obj: CliContext, order_id: str) -> None:
    """Declare a no-show as the platform: before arrival the therapist's (full refund at once, a penalty
    record), after it the customer's (no refund)."""
    view = obj.platform().orders.mark_no_show(obj.actor(), order_id)
    line = f"{view.id} no-show -> {view.state.value}; refunded {view.refunded} of {view.paid} paid"
    if view.settlement is not None:
        line += f" ({view.settlement.cause.value}"
        line += f"; penalty for {view.settlement.penalty.therapist_id})" if view.settlement.penalty else ")"
    click.echo(line)


@orders.command("dismiss")
@click.argument("order_id")
@click.option("--note", required=True, help="Why the dispute is dismissed (recorded in the timeline).")
@click.pass_obj
def dismiss(obj: CliContext, order_id: str, note: str) -> None:
    """Dismiss a customer's dispute: the order is completed and nothing is refunded."""
    view = obj.platform().orders.dismiss_dispute(obj.actor(), order_id, note)
    click.echo(f"{view.id} dispute dismissed -> {view.state.value}")


@orders.command("payments")
@click.argument("order_id")
@click.pass_obj
def payments(obj: CliContext, order_id: str) -> None:
    """The order's payment and refunds (kind, amount, when, transaction id or refund number, status), checked
    with the payment gateway."""
    records = obj.platform().orders.payments(obj.actor(), order_id)
    details = {"order": records.order_id, "total": records.total, "paid": records.paid,
               "refunded": records.refunded, "method": records.method.value if records.method else None,
               "gateway_status": records.gateway_status.value if records.gateway_status else None,
               "gateway_checked": records.gateway_checked}
    entries = [_entry(e) for e in records.entries]
    if obj.output == "json":
        document = {k: plain(v) for k, v in details.items()}
        document["entries"] = [{k: plain(v) for k, v in e.items()} for e in entries]
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    emit_one(details, obj.output)
    click.echo("")
    emit(entries, PAYMENT_COLUMNS, obj.output)


@orders.command("sos")
@click.option("--hours", default=24, show_default=True, help="How far back to look (1..720).")
@click.option("--open", "open_only", is_flag=True, help="Only alerts whose visit is still under way.")
@click.option("--limit", default=50, show_default=True)
@click.pass_obj
def sos(obj: CliContext, hours: int, open_only: bool, limit: int) -> None:
    """The SOS alerts therapists raised during visits, most recent first."""
    alerts = obj.platform().orders.sos_alerts(obj.actor(), hours=hours, open_only=open_only, limit=limit)
    emit([{"at": a.at, "order_id": a.order_id, "therapist_id": a.therapist_id, "state": a.state.value,
           "open": "yes" if a.open else "no", "note": a.note} for a in alerts], SOS_COLUMNS, obj.output)
