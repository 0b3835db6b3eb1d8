"""Payout batches on memory (decision 0033): the batch id, the two-admin rule above the threshold, an idempotent
run that pays nobody twice, and the CSV report."""

from __future__ import annotations

import csv
import io

import pytest

from conftest import Kit, MakeKit
from massage_core.domain.access import Actor
from massage_core.domain.audit import AuditOutcome
from massage_core.domain.errors import Conflict, PermissionDenied, ValidationError
from massage_core.domain.money import Money
from massage_core.domain.withdrawals import WithdrawalState
from massage_core.services.base import Policies
from massage_core.services.payout_batches import CSV_COLUMNS, batch_id
from test_withdrawals import fund

THRESHOLD = Policies(batch_two_admin_threshold_fen=30_000)
"""¥300: two withdrawals of ¥200 need two admins, one does not."""


def approved(kit: Kit, count: int) -> list[str]:
    superadmin = kit.superadmin()
    made = []
    for n in range(count):
        therapist = kit.therapist()
        fund(kit, therapist, 50_000, reference=f"b{n}")
        wid = kit.platform.withdrawals.request(therapist.actor, 20_000).id
        kit.platform.withdrawals.approve(superadmin.actor, wid)
        made.append(wid)
    return sorted(made)


def test_the_batch_is_every_approved_withdrawal_named_by_their_ids(make_kit: MakeKit) -> None:
    kit = make_kit(policies=THRESHOLD)
    ids = approved(kit, 2)
    batch = kit.platform.withdrawals.batch(kit.admin("finance").actor)
    assert [w.id for w in batch.withdrawals] == ids
    assert (batch.id, batch.total, batch.needs_two_admins, batch.ready) == (batch_id(reversed(ids)), Money(40_000),
                                                                          True, False)
    assert batch.id.startswith("pob_") and len(batch.id) == 36


def test_above_the_threshold_two_different_admins_must_approve(make_kit: MakeKit) -> None:
    kit = make_kit(policies=THRESHOLD)
    ids = approved(kit, 2)
    first, second = kit.admin("finance"), kit.admin("finance")
    bid = kit.platform.withdrawals.batch(first.actor).id
    with pytest.raises(PermissionDenied) as err:  # nobody approved
        kit.platform.withdrawals.run_batch(first.actor, bid)
    assert err.value.code == "payout_batch.approvals"
    kit.platform.withdrawals.approve_batch(first.actor, bid)
    with pytest.raises(Conflict) as conflict:  # the same admin twice
        kit.platform.withdrawals.approve_batch(first.actor, bid)
    assert conflict.value.code == "payout_batch.already_approved"
    with pytest.raises(ValidationError) as invalid:  # the system is nobody
        kit.platform.withdrawals.approve_batch(Actor.system(), bid)
    assert invalid.value.code == "actor.no_account"
    for runner in (first.actor, second.actor, Actor.system()):  # one approval is not enough, whoever runs
        with pytest.raises(PermissionDenied) as err:
            kit.platform.withdrawals.run_batch(runner, bid)
        assert err.value.code == "payout_batch.approvals"
    denied = kit.denied_entries()[-1]
    assert (denied.action, denied.target, dict(denied.details)["error"]) == (
        "withdrawals.run_batch", bid, "payout_batch.approvals")
    assert kit.platform.payout_gateway.calls == 0  # type: ignore[attr-defined]
    approval = kit.platform.withdrawals.approve_batch(second.actor, bid)
    assert approval.approved_by == (first.account_id, second.account_id) and approval.ready
    report = kit.platform.withdrawals.run_batch(first.actor, bid)  # an approver may run it
    assert [w.id for w in report.paid] == ids and not report.failed and not report.skipped
    assert [e.action for e in kit.audit_entries() if e.target == bid and e.outcome is AuditOutcome.OK] == [
        "payouts.approve_batch", "payouts.approve_batch", "payouts.run_batch"]


def test_below_the_threshold_one_run_is_enough(make_kit: MakeKit) -> None:
    kit = make_kit(policies=THRESHOLD)
    [wid] = approved(kit, 1)
    finance = kit.admin("finance")
    bid = kit.platform.withdrawals.batch(finance.actor).id
    seen: list[tuple[str, str, int]] = []
    report = kit.platform.withdrawals.run_batch(finance.actor, bid,
                                                progress=lambda ln, n: seen.append((ln.withdrawal.id, ln.outcome, n)))
    assert seen == [(wid, "paid", 1)]
    assert [w.state for w in report.paid] == [WithdrawalState.PAID]
    assert kit.platform.ledger.verify(Actor.system()).ok


def test_stale_empty_and_malformed_ids_are_refused(make_kit: MakeKit) -> None:
    kit = make_kit(policies=THRESHOLD)
    finance = kit.admin("finance")
    empty = kit.platform.withdrawals.batch(finance.actor)
    for call in (kit.platform.withdrawals.approve_batch, kit.platform.withdrawals.run_batch):
        with pytest.raises(Conflict) as err:
            call(finance.actor, empty.id)
        assert err.value.code == "payout_batch.empty"
        with pytest.raises(ValidationError) as bad:
            call(finance.actor, "pob_nothex")
        assert bad.value.code == "payout_batch.id"
    approved(kit, 1)
    with pytest.raises(Conflict) as err:  # the batch changed since the id was shown
        kit.platform.withdrawals.approve_batch(finance.actor, empty.id)
    assert err.value.code == "payout_batch.stale"
    with pytest.raises(PermissionDenied):
        kit.platform.withdrawals.batch(kit.therapist().actor)


def test_a_rerun_after_a_crash_pays_nobody_twice(make_kit: MakeKit) -> None:
    kit = make_kit(policies=THRESHOLD)
    ids = approved(kit, 3)
    first, second = kit.admin("finance"), kit.admin("superadmin")
    bid = kit.platform.withdrawals.batch(first.actor).id
    kit.platform.withdrawals.approve_batch(first.actor, bid)
    kit.platform.withdrawals.approve_batch(second.actor, bid)
    gateway = kit.platform.payout_gateway
    kit.platform.payout_gateway.fail(ids[2], "account closed")  # type: ignore[attr-defined]
    calls = {"n": 0}

    def crash_on_second(_line: object, _members: int) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            gateway.crash_after_send = True  # type: ignore[attr-defined]

    with pytest.raises(RuntimeError):
        kit.platform.withdrawals.run_batch(first.actor, bid, progress=crash_on_second)
    # the first is paid, the second paid at the gateway only; the batch id is now found in the audit log
    assert kit.platform.withdrawals.batch(first.actor).id != bid
    report = kit.platform.withdrawals.run_batch(first.actor, bid)
    assert ([w.id for w in report.skipped], [w.id for w in report.paid], [w.id for w in report.failed]) == (
        ids[:1], ids[1:2], ids[2:])
    again = kit.platform.withdrawals.run_batch(second.actor, bid)
    assert [w.id for w in again.skipped] == ids and not again.paid
    assert gateway.sent == {ids[0]: Money(20_000), ids[1]: Money(20_000)}  # type: ignore[attr-defined]
    assert kit.platform.ledger.verify(Actor.system()).ok


def test_the_csv_report_has_one_row_per_withdrawal(make_kit: MakeKit) -> None:
    kit = make_kit(policies=THRESHOLD)
    [wid] = approved(kit, 1)
    finance = kit.admin("finance")
    bid = kit.platform.withdrawals.batch(finance.actor).id
    report = kit.platform.withdrawals.run_batch(finance.actor, bid)
    out = io.StringIO()
    report.write_csv(out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    paid = report.paid[0]
    assert rows == [list(CSV_COLUMNS), [bid, wid, paid.therapist_id, "20000", "0", "20000", "paid", "PO00000001", ""]]
