"""``massage earnings``: a therapist's balances, totals and per-order earnings; admins' bonuses and penalties
(decision 0032).

``show`` and ``orders`` need the therapist's own token or one with ``ledger.read`` (finance, auditor,
superadmin); ``bonus`` and ``penalty`` a finance or superadmin token (``money.manage``).  Amounts are in yuan.
"""

from __future__ import annotations

import json

import click

from massage_cli.context import CliContext
from massage_cli.output import emit, emit_one
from massage_core.domain.money import Money

TOTAL_COLUMNS = ["period", "income", "tips", "commission", "bonuses", "penalties"]
ORDER_COLUMNS = ["order", "completed_at", "total", "rate_bp", "commission", "income", "tip", "settled"]


@click.group()
def earnings() -> None:
    """A therapist's earnings: balances, totals by period, per-order income; bonuses and penalties."""


@earnings.command("show")
@click.argument("therapist")
@click.option("--period", type=click.Choice(["day", "week", "month"]), default="day", show_default=True,
              help="Totals per day, ISO week or month, in the therapist's own time zone.")
@click.pass_obj
def show(obj: CliContext, therapist: str, period: str) -> None:
    """Show THERAPIST's balances (pending, available, on hold) and totals per period."""
    platform, actor = obj.platform(), obj.actor()
    summary = platform.earnings.summary(actor, therapist)
    totals = platform.earnings.totals(actor, therapist, period=period)
    balances = {"therapist": summary.therapist, "pending": str(summary.pending),
                "available": str(summary.available), "on_hold": str(summary.on_hold)}
    rows = [{"period": t.start.isoformat(), "income": str(t.income), "tips": str(t.tips),
             "commission": str(t.commission), "bonuses": str(t.bonuses), "penalties": str(t.penalties)}
            for t in totals]
    if obj.output == "json":
        click.echo(json.dumps({**balances, "totals": rows}, ensure_ascii=False, indent=2))
        return
    if obj.output == "table":
        emit_one(balances, obj.output)
        click.echo()
    emit(rows, TOTAL_COLUMNS, obj.output)


@earnings.command("orders")
@click.argument("therapist")
@click.option("--offset", type=int, default=0)
@click.option("--limit", type=int, default=50)
@click.pass_obj
def orders(obj: CliContext, therapist: str, offset: int, limit: int) -> None:
    """List THERAPIST's completed orders, newest first: total, commission rate and amount, income, tip."""
    found = obj.platform().earnings.orders(obj.actor(), therapist, offset=offset, limit=limit)
    emit([{"order": o.order_id, "completed_at": o.completed_at, "total": str(o.total), "rate_bp": o.rate_bp,
           "commission": str(o.commission), "income": str(o.income), "tip": str(o.tip), "settled": o.settled}
          for o in found], ORDER_COLUMNS, obj.output)


REQUEST_HELP = "Your id of this request (1..64 of A-Z a-z 0-9 _ -): run again with it, nothing is posted twice."


def _adjust(obj: CliContext, kind: str, therapist: str, amount: str, reason: str, request_id: str | None) -> None:
    money = Money.parse_yuan(amount)
    service = obj.platform().earnings
    adjust = service.grant_bonus if kind == "bonus" else service.deduct_penalty
    done = adjust(obj.actor(), therapist, money, reason, request_id=request_id)
    emit_one({"reference": done.reference, "kind": done.kind, "therapist": done.therapist,
              "amount": str(done.amount), "reason": done.reason}, obj.output)


@earnings.command("bonus")
@click.argument("therapist")
@click.option("--amount", required=True, help="In yuan, e.g. 50 or 50.00.")
@click.option("--reason", required=True, help="Why (kept in the ledger and the audit log).")
@click.option("--request-id", default=None, help=REQUEST_HELP)
@click.pass_obj
def bonus(obj: CliContext, therapist: str, amount: str, reason: str, request_id: str | None) -> None:
    """Grant THERAPIST a bonus (credited to their available balance; audited)."""
    _adjust(obj, "bonus", therapist, amount, reason, request_id)


@earnings.command("penalty")
@click.argument("therapist")
@click.option("--amount", required=True, help="In yuan, e.g. 20 or 20.50.")
@click.option("--reason", required=True, help="Why (kept in the ledger and the audit log).")
@click.option("--request-id", default=None, help=REQUEST_HELP)
@click.pass_obj
def penalty(obj: CliContext, therapist: str, amount: str, reason: str, request_id: str | None) -> None:
    """Deduct a penalty from THERAPIST's available balance (never below zero; audited)."""
    _adjust(obj, "penalty", therapist, amount, reason, request_id)
