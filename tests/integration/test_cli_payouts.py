"""``massage payouts list|approve|run`` end to end on a SQLite file, through click's CliRunner (decision 0033)."""

from __future__ import annotations

import csv
from pathlib import Path

import pendulum

from massage_core.adapters.crypto.keyring import KeyRing
from massage_core.bootstrap import Platform
from massage_core.domain.access import Actor, Role
from massage_core.domain.ids import AccountId
from massage_core.domain.money import Money
from massage_core.domain.postings import bonus
from test_cli_therapists import as_json, env, ok, run, token

__all__ = ["env", "token"]  # fixtures


def approved_withdrawal(env: dict[str, str]) -> tuple[str, str]:
    """A therapist funded with ¥500 who asked for ¥200, approved by the system: (therapist, withdrawal)."""
    platform = Platform.from_url(env["MASSAGE_DB"], keyring=KeyRing.load(env["MASSAGE_KEY_FILE"]))
    try:
        person = platform.accounts.register_with_password("li.na@example.com", "桃花潭水深千尺不及汪伦送我情")
        me, at = AccountId(person.account_id), pendulum.now("UTC")
        roles = frozenset({Role.CUSTOMER, Role.THERAPIST})
        with platform.deps.uow() as uow:
            uow.accounts.save(uow.accounts.get(me).set_roles(roles, frozenset(), at))
            uow.ledger.post(bonus("welcome", me, Money(50_000), at, "welcome"))
            uow.commit()
        made = platform.withdrawals.request(Actor(me, roles), 20_000)
        platform.withdrawals.approve(Actor.system(), made.id)
        return me, made.id
    finally:
        platform.close()


def test_list_approve_and_run_with_a_csv_report(env: dict[str, str], token: str, tmp_path: Path) -> None:
    therapist, wid = approved_withdrawal(env)
    [listed] = as_json(run(env, "--format", "json", "payouts", "list", token=token))  # type: ignore[misc]
    assert isinstance(listed, dict)
    assert (listed["count"], listed["total"], listed["needs_two_admins"], listed["ready"]) == (1, "¥200.00", False,
                                                                                              True)
    assert (listed["withdrawals"], listed["approved_by"]) == (wid, "")
    batch = listed["batch"]
    table = run(env, "payouts", "list", token=token)
    assert wid in ok(table) and f"batch {batch}: 1 withdrawal(s), total ¥200.00" in table.output
    [approval] = as_json(run(env, "--format", "json", "payouts", "approve", batch, token=token))  # type: ignore[misc]
    assert isinstance(approval, dict) and approval["count"] == 1 and approval["ready"] is True
    again = run(env, "payouts", "approve", batch, token=token)
    assert again.exit_code == 1 and "payout_batch.already_approved" in again.output
    report = tmp_path / "batch.csv"
    paid = run(env, "payouts", "run", batch, "--csv", str(report), token=token)
    assert wid in ok(paid) and "1 paid, 0 failed, 0 skipped" in paid.output and "paying" in paid.output
    with report.open(encoding="utf-8", newline="") as found:
        rows = list(csv.DictReader(found))
    assert [(r["batch_id"], r["withdrawal_id"], r["therapist_id"], r["net_fen"], r["outcome"]) for r in rows] == [
        (batch, wid, therapist, "20000", "paid")]
    rerun = run(env, "payouts", "run", batch, token=token)
    assert "0 paid, 0 failed, 1 skipped" in ok(rerun)
    stale = run(env, "payouts", "run", "pob_" + "0" * 32, token=token)
    assert stale.exit_code == 1 and "payout_batch.stale" in stale.output
    assert "auth.required" in run(env, "payouts", "list").output
