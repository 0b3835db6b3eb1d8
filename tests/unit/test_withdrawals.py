"""``platform.withdrawals`` on memory: requests hold at once and never exceed the available balance; finance
approves or rejects (releasing the hold), audited with who decided; the policy's minimum and fee."""

from __future__ import annotations

import pendulum
import pytest

from conftest import Kit, MakeKit, Person
from massage_core.domain import postings
from massage_core.domain.access import Actor
from massage_core.domain.audit import AuditOutcome
from massage_core.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from massage_core.domain.ledger import Book, LedgerAccount
from massage_core.domain.money import Money
from massage_core.domain.withdrawals import WithdrawalPolicy, WithdrawalState
from massage_core.services.base import Policies

AT = pendulum.datetime(2026, 1, 5, 2, tz="UTC")


def fund(kit: Kit, therapist: Person, fen: int, reference: str = "b1") -> None:
    with kit.platform.deps.uow() as uow:
        uow.ledger.post(postings.bonus(reference, therapist.account_id, Money(fen), AT, "welcome"))
        uow.commit()


def balance(kit: Kit, book: Book, therapist: Person) -> int:
    with kit.platform.deps.uow() as uow:
        return uow.ledger.balance(LedgerAccount.of(book, therapist.account_id)).fen


def test_a_request_holds_the_amount_at_once_and_is_audited(kit: Kit) -> None:
    therapist = kit.therapist()
    fund(kit, therapist, 50_000)
    made = kit.platform.withdrawals.request(therapist.actor, 20_000)
    assert (made.state, made.amount, made.fee, made.therapist_id) == (
        WithdrawalState.REQUESTED, Money(20_000), Money(0), therapist.account_id)
    assert balance(kit, Book.THERAPIST_PAYABLE, therapist) == 30_000
    assert balance(kit, Book.WITHDRAWAL_HOLDS, therapist) == 20_000
    last = kit.audit_entries()[-1]
    assert (last.action, last.target, last.outcome) == ("withdrawals.request", made.id, AuditOutcome.OK)
    assert [w.id for w in kit.platform.withdrawals.mine(therapist.actor)] == [made.id]


def test_a_request_above_the_available_balance_is_refused_and_changes_nothing(kit: Kit) -> None:
    therapist = kit.therapist()
    fund(kit, therapist, 30_000)
    kit.platform.withdrawals.request(therapist.actor, 20_000)
    with pytest.raises(Conflict) as err:
        kit.platform.withdrawals.request(therapist.actor, 10_001)
    assert err.value.code == "withdrawal.insufficient"
    assert balance(kit, Book.WITHDRAWAL_HOLDS, therapist) == 20_000
    kit.platform.withdrawals.request(therapist.actor, 10_000)  # exactly what is left
    assert balance(kit, Book.THERAPIST_PAYABLE, therapist) == 0


def test_the_policy_sets_the_minimum_and_the_fee(make_kit: MakeKit) -> None:
    policy = WithdrawalPolicy(min_amount=Money(5_000), fee_fixed=Money(100), fee_bp=60)
    kit = make_kit(policies=Policies(withdrawals=policy))
    therapist = kit.therapist()
    fund(kit, therapist, 100_000)
    with pytest.raises(ValidationError) as err:
        kit.platform.withdrawals.request(therapist.actor, 4_999)
    assert err.value.code == "withdrawal.amount"
    made = kit.platform.withdrawals.request(therapist.actor, 10_000)
    assert (made.fee, made.net) == (Money(160), Money(9_840))  # 1.00 + 0.6 % of 100.00
    with pytest.raises(ValidationError) as err:
        WithdrawalPolicy(min_amount=Money(1), fee_fixed=Money(100)).check(Money(100))
    assert err.value.code == "withdrawal.fee"


def test_finance_approves_and_the_hold_stays(kit: Kit) -> None:
    therapist, finance = kit.therapist(), kit.admin("finance")
    fund(kit, therapist, 20_000)
    made = kit.platform.withdrawals.request(therapist.actor, 20_000)
    assert [w.id for w in kit.platform.withdrawals.list(finance.actor, "requested")] == [made.id]
    approved = kit.platform.withdrawals.approve(finance.actor, made.id)
    assert (approved.state, approved.decided_by, approved.decided_at) == (
        WithdrawalState.APPROVED, finance.account_id, kit.platform.deps.clock.now())
    assert balance(kit, Book.WITHDRAWAL_HOLDS, therapist) == 20_000
    assert kit.platform.withdrawals.list(finance.actor, WithdrawalState.REQUESTED) == []
    last = kit.audit_entries()[-1]
    assert (last.action, last.target, last.actor) == ("withdrawals.approve", made.id, finance.actor.label)
    with pytest.raises(Conflict) as err:
        kit.platform.withdrawals.reject(finance.actor, made.id, "too late")
    assert err.value.code == "withdrawal.state"


def test_a_rejection_needs_a_reason_and_releases_the_hold(kit: Kit) -> None:
    therapist, finance = kit.therapist(), kit.admin("finance")
    fund(kit, therapist, 20_000)
    made = kit.platform.withdrawals.request(therapist.actor, 15_000)
    with pytest.raises(ValidationError) as err:
        kit.platform.withdrawals.reject(finance.actor, made.id, "  ")
    assert err.value.code == "withdrawal.reason"
    rejected = kit.platform.withdrawals.reject(finance.actor, made.id, "bank account name mismatch")
    assert (rejected.state, rejected.reason, rejected.decided_by) == (
        WithdrawalState.REJECTED, "bank account name mismatch", finance.account_id)
    assert balance(kit, Book.THERAPIST_PAYABLE, therapist) == 20_000
    assert balance(kit, Book.WITHDRAWAL_HOLDS, therapist) == 0
    assert dict(kit.audit_entries()[-1].details)["reason"] == "bank account name mismatch"
    assert kit.platform.ledger.verify(Actor.system()).ok


def test_who_may_do_what(kit: Kit) -> None:
    therapist, customer, finance = kit.therapist(), kit.customer_by_phone(), kit.admin("finance")
    fund(kit, therapist, 20_000)
    made = kit.platform.withdrawals.request(therapist.actor, 20_000)
    with pytest.raises(PermissionDenied):
        kit.platform.withdrawals.request(customer.actor, 10_000)
    with pytest.raises(PermissionDenied):
        kit.platform.withdrawals.approve(therapist.actor, made.id)
    with pytest.raises(ValidationError) as err:
        kit.platform.withdrawals.request(Actor.system(), 10_000)
    assert err.value.code == "actor.no_account"
    with pytest.raises(NotFound):
        kit.platform.withdrawals.approve(finance.actor, "wdr_" + "0" * 26)
    with pytest.raises(ValidationError):
        kit.platform.withdrawals.list(finance.actor, "nonsense")
    denied = [e for e in kit.audit_entries() if e.outcome is AuditOutcome.DENIED]
    assert [e.action for e in denied][-2:] == ["withdrawals.request", "withdrawals.approve"]


def approved(kit: Kit, fen: int = 20_000, *, fee_bp: int = 0) -> tuple[Person, Person, str]:
    therapist, finance = kit.therapist(), kit.admin("finance")
    fund(kit, therapist, 50_000)
    made = kit.platform.withdrawals.request(therapist.actor, fen)
    kit.platform.withdrawals.approve(finance.actor, made.id)
    return therapist, finance, made.id


def test_paying_sends_the_net_amount_once_and_clears_the_hold(make_kit: MakeKit) -> None:
    kit = make_kit(policies=Policies(withdrawals=WithdrawalPolicy(fee_fixed=Money(200))))
    therapist, finance, wid = approved(kit)
    paid = kit.platform.withdrawals.pay(finance.actor, wid)
    assert (paid.state, paid.payout_reference, paid.net) == (WithdrawalState.PAID, "PO00000001", Money(19_800))
    gateway = kit.platform.payout_gateway
    assert gateway.sent == {wid: Money(19_800)}  # type: ignore[attr-defined]
    assert balance(kit, Book.WITHDRAWAL_HOLDS, therapist) == 0
    assert balance(kit, Book.THERAPIST_PAYABLE, therapist) == 30_000
    with kit.platform.deps.uow() as uow:
        assert uow.ledger.balance(LedgerAccount.of(Book.FEE_REVENUE)).fen == 200
        assert uow.ledger.balance(LedgerAccount.of(Book.PAYOUT_CLEARING)).fen == 0
    last = kit.audit_entries()[-1]
    assert (last.action, dict(last.details)["outcome"], last.actor) == ("withdrawals.pay", "paid",
                                                                        finance.actor.label)
    assert kit.platform.withdrawals.pay(finance.actor, wid) == paid  # a rerun changes nothing
    assert gateway.calls == 1  # type: ignore[attr-defined]
    assert kit.platform.ledger.verify(Actor.system()).ok


def test_a_failed_payout_returns_everything_to_the_available_balance(kit: Kit) -> None:
    therapist, finance, wid = approved(kit)
    kit.platform.payout_gateway.fail(wid, "account closed")  # type: ignore[attr-defined]
    failed = kit.platform.withdrawals.pay(finance.actor, wid)
    assert (failed.state, failed.reason, failed.payout_reference) == (WithdrawalState.FAILED, "account closed", None)
    assert balance(kit, Book.THERAPIST_PAYABLE, therapist) == 50_000
    assert balance(kit, Book.WITHDRAWAL_HOLDS, therapist) == 0
    assert kit.platform.ledger.verify(Actor.system()).ok


def test_a_rerun_after_a_crash_pays_nobody_twice(kit: Kit) -> None:
    therapist, finance, wid = approved(kit)
    gateway = kit.platform.payout_gateway
    gateway.crash_after_send = True  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError):
        kit.platform.withdrawals.pay(finance.actor, wid)
    assert kit.platform.withdrawals.list(finance.actor, "approved")[0].id == wid  # paid at the gateway only
    paid = kit.platform.withdrawals.pay(finance.actor, wid)
    assert paid.state is WithdrawalState.PAID
    assert (gateway.sent, gateway.calls) == ({wid: Money(20_000)}, 2)  # type: ignore[attr-defined]
    with kit.platform.deps.uow() as uow:
        assert uow.ledger.entry(f"withdrawal:{wid}:sent") is not None
        assert uow.ledger.entry(f"withdrawal:{wid}:paid") is not None
    assert balance(kit, Book.THERAPIST_PAYABLE, therapist) == 30_000
    assert kit.platform.ledger.verify(Actor.system()).ok


def test_only_an_approved_withdrawal_is_paid(kit: Kit) -> None:
    therapist, finance = kit.therapist(), kit.admin("finance")
    fund(kit, therapist, 50_000)
    made = kit.platform.withdrawals.request(therapist.actor, 20_000)
    with pytest.raises(Conflict) as err:
        kit.platform.withdrawals.pay(finance.actor, made.id)
    assert err.value.code == "withdrawal.state"
    with pytest.raises(PermissionDenied):
        kit.platform.withdrawals.pay(therapist.actor, made.id)
    assert kit.platform.payout_gateway.calls == 0  # type: ignore[attr-defined]
