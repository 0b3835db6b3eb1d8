"""``massage payouts``: pay approved withdrawals as one batch (an admin token with ``money.manage``: finance or
superadmin; decision 0033).

``list`` shows the current batch (every approved withdrawal), its id, total and approvers; ``approve BATCH_ID``
records the acting admin's approval (two different admins above the configured total); ``run BATCH_ID`` pays
it with a progress bar and can write a CSV report.  A rerun of the same id after a crash pays nobody twice.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from massage_cli.context import CliContext
from massage_cli.output import emit, emit_one

COLUMNS = ["withdrawal", "therapist", "amount", "fee", "net", "approved_at"]
REPORT_COLUMNS = ["withdrawal", "therapist", "net", "outcome", "reference", "reason"]


@click.group()
def payouts() -> None:
    """Payout batches: list, approve and run the approved withdrawals."""


@payouts.command("list")
@click.pass_obj
def list_batch(obj: CliContext) -> None:
    """Show the approved withdrawals, then the batch id, total and approvers (on stderr); with ``--format json``
    one object: the batch id, total, count, approvers and the withdrawal ids (comma-separated)."""
    batch = obj.platform().withdrawals.batch(obj.actor())
    rows = [{"withdrawal": w.id, "therapist": w.therapist_id, "amount": str(w.amount), "fee": str(w.fee),
             "net": str(w.net), "approved_at": w.decided_at} for w in batch.withdrawals]
    if obj.output == "json":
        emit_one({"batch": batch.id, "total": str(batch.total), "count": len(rows),
                  "needs_two_admins": batch.needs_two_admins, "approved_by": list(batch.approved_by),
                  "ready": batch.ready, "withdrawals": [w.id for w in batch.withdrawals]}, obj.output)
        return
    emit(rows, COLUMNS, obj.output)
    click.echo(f"batch {batch.id}: {len(rows)} withdrawal(s), total {batch.total}"
               f"{', needs two approvals' if batch.needs_two_admins else ''}"
               f"; approved by {', '.join(batch.approved_by) or 'nobody'}", err=True)


@payouts.command("approve")
@click.argument("batch_id")
@click.pass_obj
def approve(obj: CliContext, batch_id: str) -> None:
    """Approve the current batch BATCH_ID (as shown by ``payouts list``)."""
    batch = obj.platform().withdrawals.approve_batch(obj.actor(), batch_id)
    emit_one({"batch": batch.id, "total": str(batch.total), "count": len(batch.withdrawals),
              "approved_by": ", ".join(batch.approved_by), "ready": batch.ready}, obj.output)


@payouts.command("run")
@click.argument("batch_id")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Write the report (one row per withdrawal) to this CSV file.")
@click.pass_obj
def run(obj: CliContext, batch_id: str, csv_path: Path | None) -> None:
    """Pay every withdrawal of BATCH_ID still approved; print what became of each."""
    platform, actor = obj.platform(), obj.actor()
    with click.progressbar(length=1, label="paying", file=sys.stderr) as bar:
        def step(_line: object, members: int) -> None:
            bar.length = members
            bar.update(1)

        report = platform.withdrawals.run_batch(actor, batch_id, progress=step)
    if csv_path is not None:
        with csv_path.open("w", encoding="utf-8", newline="") as out:
            report.write_csv(out)
    emit([{"withdrawal": ln.withdrawal.id, "therapist": ln.withdrawal.therapist_id, "net": str(ln.withdrawal.net),
           "outcome": ln.outcome, "reference": ln.withdrawal.payout_reference or "",
           "reason": ln.withdrawal.reason or ""} for ln in report.lines], REPORT_COLUMNS, obj.output)
    click.echo(f"batch {report.batch_id}: {len(report.paid)} paid, {len(report.failed)} failed, "
               f"{len(report.skipped)} skipped", err=True)
