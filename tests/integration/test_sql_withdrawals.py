"""Withdrawals on SQLite and PostgreSQL (decision 0033): the repository round trip through the service, and
acceptance 2 -- many simultaneous requests against one balance never overdraw: the total held never exceeds
what was available, and exactly the requests that fit succeed."""

from __future__ import annotations

import threading

import pendulum

from massage_core.bootstrap import Platform
from massage_core.domain import postings
from massage_core.domain.access import Actor, AdminRole, Role
from massage_core.domain.errors import Conflict
from massage_core.domain.ledger import Book, LedgerAccount
from massage_core.domain.money import Money
from massage_core.domain.withdrawals import WithdrawalState
from storage_support import make_account

AT = pendulum.datetime(2026, 1, 5, 2, tz="UTC")


def people(platform: Platform, fen: int) -> tuple[Actor, Actor]:
    therapist, finance = make_account(), make_account()
    with platform.deps.uow() as uow:
        uow.accounts.add(therapist)
        uow.accounts.add(finance)
        uow.ledger.post(postings.bonus("welcome", therapist.id, Money(fen), AT, "welcome"))
        uow.commit()
    return (Actor(therapist.id, roles=frozenset({Role.THERAPIST})),
            Actor(finance.id, roles=frozenset({Role.ADMIN}), admin_roles=frozenset({AdminRole.FINANCE})))


def balance(platform: Platform, book: Book, who: Actor) -> int:
    assert who.account_id is not None
    with platform.deps.uow() as uow:
        return uow.ledger.balance(LedgerAccount.of(book, who.account_id)).fen


def test_request_approve_reject_round_trip(platform: Platform) -> None:
    therapist, finance = people(platform, 50_000)
    first = platform.withdrawals.request(therapist, 20_000)
    second = platform.withdrawals.request(therapist, 15_000)
    assert balance(platform, Book.WITHDRAWAL_HOLDS, therapist) == 35_000
    assert [w.id for w in platform.withdrawals.list(finance, "requested")] == [first.id, second.id]
    approved = platform.withdrawals.approve(finance, first.id)
    rejected = platform.withdrawals.reject(finance, second.id, "name mismatch")
    assert (approved.state, approved.decided_by, approved.version) == (
        WithdrawalState.APPROVED, finance.account_id, 2)
    assert (rejected.state, rejected.reason) == (WithdrawalState.REJECTED, "name mismatch")
    assert {w.id: w for w in platform.withdrawals.mine(therapist)} == {first.id: approved, second.id: rejected}
    assert balance(platform, Book.WITHDRAWAL_HOLDS, therapist) == 20_000
    assert balance(platform, Book.THERAPIST_PAYABLE, therapist) == 30_000
    assert platform.ledger.verify(Actor.system()).ok


def test_simultaneous_requests_never_overdraw(platform: Platform) -> None:
    available, amount, contenders = 55_000, 10_000, 12
    therapist, _finance = people(platform, available)
    start = threading.Barrier(contenders)
    won: list[str] = []
    refused: list[str] = []

    def contend() -> None:
        start.wait()
        while True:
            try:
                won.append(platform.withdrawals.request(therapist, amount).id)
                return
            except Conflict as conflict:
                if conflict.code == "withdrawal.insufficient":
                    refused.append(conflict.code)
                    return
                # conflict.busy (the SQLite writer lock waited too long): try again

    threads = [threading.Thread(target=contend) for _ in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert (len(won), len(refused)) == (available // amount, contenders - available // amount)
    assert balance(platform, Book.WITHDRAWAL_HOLDS, therapist) == len(won) * amount <= available
    assert balance(platform, Book.THERAPIST_PAYABLE, therapist) == available - len(won) * amount
    assert platform.ledger.verify(Actor.system()).ok


def test_paying_and_failing_a_payout(platform: Platform) -> None:
    therapist, finance = people(platform, 50_000)
    good = platform.withdrawals.request(therapist, 20_000)
    bad = platform.withdrawals.request(therapist, 10_000)
    for made in (good, bad):
        platform.withdrawals.approve(finance, made.id)
    platform.payout_gateway.fail(bad.id, "account closed")  # type: ignore[attr-defined]
    paid = platform.withdrawals.pay(finance, good.id)
    failed = platform.withdrawals.pay(finance, bad.id)
    assert (paid.state, paid.payout_reference, failed.state, failed.reason) == (
        WithdrawalState.PAID, "PO00000001", WithdrawalState.FAILED, "account closed")
    assert {w.id: w for w in platform.withdrawals.mine(therapist)} == {good.id: paid, bad.id: failed}
    assert balance(platform, Book.THERAPIST_PAYABLE, therapist) == 30_000
    assert balance(platform, Book.WITHDRAWAL_HOLDS, therapist) == 0
    assert platform.ledger.verify(Actor.system()).ok


def test_the_same_payout_run_twice_at_once_pays_once(platform: Platform) -> None:
    therapist, finance = people(platform, 50_000)
    made = platform.withdrawals.request(therapist, 20_000)
    platform.withdrawals.approve(finance, made.id)
    runners = 6
    start = threading.Barrier(runners)
    outcomes: list[WithdrawalState] = []

    def run() -> None:
        start.wait()
        while True:
            try:
                outcomes.append(platform.withdrawals.pay(finance, made.id).state)
                return
            except Conflict as conflict:
                assert conflict.code == "conflict.busy", conflict.code  # SQLite's writer lock: try again

    threads = [threading.Thread(target=run) for _ in range(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert outcomes == [WithdrawalState.PAID] * runners
    assert platform.payout_gateway.sent == {made.id: Money(20_000)}  # type: ignore[attr-defined]
    assert balance(platform, Book.THERAPIST_PAYABLE, therapist) == 30_000
    assert platform.ledger.verify(Actor.system()).ok
