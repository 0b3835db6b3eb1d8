"""``massage penalties``: sanctions against therapists and their appeals (decision 0039).

``list`` and ``show`` need a token with ``sanctions.read`` (support, auditor, superadmin); ``impose`` and
``appeal-decide`` one with ``sanctions.manage`` (support, superadmin) -- and an appeal is decided by an admin
other than the one who imposed the sanction.  Amounts are in yuan; ``--until`` is an ISO 8601 time with an
offset.  Rewards stay ``massage earnings bonus``.
"""

from __future__ import annotations

import datetime as dt

import click

from massage_cli.context import CliContext
from massage_cli.output import emit, emit_one
from massage_core.domain.errors import ValidationError
from massage_core.domain.money import Money
from massage_core.services.sanction_reads import SanctionView

COLUMNS = ["id", "therapist", "kind", "amount", "state", "imposed_at", "ends_at", "appeal", "reason"]


def _row(s: SanctionView) -> dict[str, object]:
    return {"id": s.id, "therapist": s.therapist_id, "kind": s.kind, "amount": str(s.amount) if s.amount else "",
            "state": s.state, "imposed_at": s.imposed_at, "ends_at": s.ends_at, "appeal": s.appeal_state or "",
            "reason": s.reason}


def _detail(s: SanctionView) -> dict[str, object]:
    return {**_row(s), "imposed_by": s.imposed_by, "appeal_deadline": s.appeal_deadline,
            "appeal_text": s.appeal_text or "", "appeal_filed_at": s.appeal_filed_at,
            "decided_by": s.decided_by or "", "decided_at": s.decided_at, "decision": s.decision_reason or ""}


def _when(raw: str | None) -> dt.datetime | None:
    if raw is None:
        return None
    try:
        value = dt.datetime.fromisoformat(raw.strip())
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise ValidationError("--until must be an ISO 8601 time with an offset, e.g. 2026-02-01T09:00+08:00",
                              code="time.naive", field="until")
    return value


@click.group()
def penalties() -> None:
    """Sanctions against therapists (deductions, warnings, suspensions) and their appeals."""


@penalties.command("list")
@click.option("--therapist", default=None, help="Only this therapist's sanctions.")
@click.option("--appeal", type=click.Choice(["pending", "upheld", "rejected"]), default=None,
              help="Only sanctions whose appeal is in this state (pending: the queue, oldest first).")
@click.option("--offset", type=int, default=0)
@click.option("--limit", type=int, default=50)
@click.pass_obj
def list_sanctions(obj: CliContext, therapist: str | None, appeal: str | None, offset: int, limit: int) -> None:
    """List sanctions, newest first."""
    service, actor = obj.platform().sanctions, obj.actor()
    if therapist is not None:
        found = service.of_therapist(actor, therapist, offset=offset, limit=limit)
        found = [s for s in found if appeal is None or s.appeal_state == appeal]
    else:
        found = service.list(actor, appeal=appeal, offset=offset, limit=limit)
    emit([_row(s) for s in found], COLUMNS, obj.output)


@penalties.command("show")
@click.argument("sanction")
@click.pass_obj
def show(obj: CliContext, sanction: str) -> None:
    """Show one SANCTION with its appeal."""
    emit_one(_detail(obj.platform().sanctions.get(obj.actor(), sanction)), obj.output)


@penalties.command("impose")
@click.argument("therapist")
@click.option("--kind", type=click.Choice(["deduction", "warning", "suspension"]), required=True)
@click.option("--reason", required=True, help="Why (encrypted at rest; shown to the therapist).")
@click.option("--amount", default=None, help="A deduction's amount in yuan, e.g. 50 or 50.00.")
@click.option("--until", default=None, help="A suspension's end (ISO 8601 with an offset); none: indefinite.")
@click.option("--request-id", default=None,
              help="Your id of this request (1..64 of A-Z a-z 0-9 _ -): run again with it, it is imposed once.")
@click.pass_obj
def impose(obj: CliContext, therapist: str, kind: str, reason: str, amount: str | None, until: str | None,
           request_id: str | None) -> None:
    """Impose a sanction on THERAPIST (audited)."""
    money = Money.parse_yuan(amount) if amount is not None else None
    made = obj.platform().sanctions.impose(obj.actor(), therapist, kind, reason, amount=money, ends_at=_when(until),
                                           request_id=request_id)
    emit_one(_detail(made), obj.output)


@penalties.command("appeal-decide")
@click.argument("sanction")
@click.option("--uphold/--reject", "upheld", required=True,
              help="Uphold the appeal (the sanction is reversed) or reject it (it stands).")
@click.option("--reason", required=True, help="Why (shown to the therapist).")
@click.pass_obj
def appeal_decide(obj: CliContext, sanction: str, upheld: bool, reason: str) -> None:
    """Decide the pending appeal of SANCTION (not by the admin who imposed it; audited)."""
    emit_one(_detail(obj.platform().sanctions.decide_appeal(obj.actor(), sanction, upheld, reason)), obj.output)
