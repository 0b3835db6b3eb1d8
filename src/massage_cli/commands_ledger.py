"""``massage ledger``: balances, entries and verification of the double-entry ledger (an admin token with
``ledger.read``: finance, auditor or superadmin).

Accounts are named by their code: a platform book (``commission_revenue``) or a per-person book and the
person's account id (``therapist_payable:acc_...``).  ``verify`` prints every problem it finds and exits 1; so does ``reconcile`` with every mismatch between
the gateway's statement of a day and the ledger.
"""

from __future__ import annotations

import datetime as dt
import sys

import click

from massage_cli.context import CliContext
from massage_cli.output import emit, emit_one

PROBLEM_COLUMNS = ["kind", "subject", "detail"]
ENTRY_COLUMNS = ["key", "at", "memo", "debits", "credits"]
MISMATCH_COLUMNS = ["kind", "key", "statement", "ledger", "detail"]


@click.group()
def ledger() -> None:
    """The double-entry ledger: balances, entries, verification."""


@ledger.command("balance")
@click.argument("account")
@click.pass_obj
def balance(obj: CliContext, account: str) -> None:
    """Show the stored balance of ACCOUNT (e.g. commission_revenue, therapist_payable:acc_...)."""
    money = obj.platform().ledger.balance(obj.actor(), account)
    emit_one({"account": account, "balance": str(money), "fen": money.fen}, obj.output)


@ledger.command("entries")
@click.argument("account")
@click.option("--offset", type=int, default=0)
@click.option("--limit", type=int, default=50)
@click.pass_obj
def entries(obj: CliContext, account: str, offset: int, limit: int) -> None:
    """List the entries touching ACCOUNT, newest first."""
    found = obj.platform().ledger.entries(obj.actor(), account, offset=offset, limit=limit)
    rows = [{"key": e.key, "at": e.at, "memo": e.memo,
             "debits": [f"{ln.account.code} {ln.amount}" for ln in e.lines if ln.side.value == "debit"],
             "credits": [f"{ln.account.code} {ln.amount}" for ln in e.lines if ln.side.value == "credit"]}
            for e in found]
    emit(rows, ENTRY_COLUMNS, obj.output)


@ledger.command("verify")
@click.pass_obj
def verify(obj: CliContext) -> None:
    """Recompute every balance from the entries; print every problem and exit 1 if there is any."""
    report = obj.platform().ledger.verify(obj.actor())
    if report.ok:
        emit_one({"status": "ok", "entries": report.entries, "accounts": report.accounts,
                  "completed_orders": report.completed_orders}, obj.output)
        return
    emit([{"kind": p.kind.value, "subject": p.subject, "detail": p.detail} for p in report.problems],
         PROBLEM_COLUMNS, obj.output)
    click.echo(f"ledger verify: {len(report.problems)} problem(s) in {report.entries} entries", err=True)
    sys.exit(1)


@ledger.command("reconcile")
@click.option("--date", "day", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="The calendar day (YYYY-MM-DD) in Asia/Shanghai unless --zone says otherwise.")
@click.option("--zone", default="Asia/Shanghai", show_default=True, help="The time zone of the day's bounds.")
@click.pass_obj
def reconcile(obj: CliContext, day: dt.datetime, zone: str) -> None:
    """Compare the gateway's statement of a day with the ledger; print every mismatch and exit 1 if any."""
    report = obj.platform().ledger.reconcile(obj.actor(), day.date(), zone)
    if report.ok:
        emit_one({"status": "ok", "date": report.day.isoformat(), "statement_lines": report.statement_lines,
                  "ledger_entries": report.ledger_entries, "matched": report.matched}, obj.output)
        return
    emit([{"kind": m.kind.value, "key": m.key, "statement": "" if m.statement is None else str(m.statement),
           "ledger": "" if m.ledger is None else str(m.ledger), "detail": m.detail} for m in report.mismatches],
         MISMATCH_COLUMNS, obj.output)
    click.echo(f"ledger reconcile {report.day.isoformat()}: {len(report.mismatches)} mismatch(es) between "
               f"{report.statement_lines} statement line(s) and {report.ledger_entries} ledger entries", err=True)
    sys.exit(1)
