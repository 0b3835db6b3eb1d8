"""The LedgerRepository contract: postings and balances, idempotent keys, key reuse, reads, verification reads,
rollback, and concurrent postings that lose no update and apply a key exactly once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from massage_core.domain.errors import Conflict
from massage_core.domain.ledger import Book, JournalEntry, LedgerAccount, credit, debit
from massage_core.domain.money import Money
from massage_core.ports.ledger import PostResult
from massage_core.ports.unit_of_work import UnitOfWork
from storage_support import T0, new_id, unique

UowFactory = Callable[[], UnitOfWork]

CLEARING = LedgerAccount.of(Book.GATEWAY_CLEARING)
PREPAID = LedgerAccount.of(Book.CUSTOMER_PREPAYMENTS)
COMMISSION = LedgerAccount.of(Book.COMMISSION_REVENUE)


def payable(owner: str | None = None) -> LedgerAccount:
    return LedgerAccount.of(Book.THERAPIST_PAYABLE, owner or new_id("account"))


def key(event: str = "captured") -> str:
    return f"order:test{unique()}:{event}"


def captured(amount: int, at: object = T0, k: str | None = None) -> JournalEntry:
    return JournalEntry(k or key(), at, (debit(CLEARING, Money(amount)), credit(PREPAID, Money(amount))))


def split(therapist: LedgerAccount, paid: int, share: int, at: object = T0, k: str | None = None) -> JournalEntry:
    return JournalEntry(k or key("completed"), at, (debit(PREPAID, Money(paid)), credit(therapist, Money(share)),
                                                    credit(COMMISSION, Money(paid - share))))


def post(uow_factory: UowFactory, *entries: JournalEntry) -> list[PostResult]:
    with uow_factory() as uow:
        done = [uow.ledger.post(e) for e in entries]
        uow.commit()
    return done


def balance(uow_factory: UowFactory, account: LedgerAccount) -> int:
    with uow_factory() as uow:
        return uow.ledger.balance(account).fen


class LedgerRepositoryContract:
    """Every LedgerRepository adapter behaves like this."""

    def test_a_posting_moves_every_balance_in_its_normal_sense(self, uow_factory: UowFactory) -> None:
        therapist = payable()
        [first, second] = post(uow_factory, captured(25_800), split(therapist, 25_800, 18_060))
        assert first.posted and second.posted and not second.already_posted
        with uow_factory() as uow:
            assert uow.ledger.balance(CLEARING) == Money(25_800)
            assert uow.ledger.balance(PREPAID) == Money(0)
            assert uow.ledger.balance(therapist) == Money(18_060)
            assert uow.ledger.balance(COMMISSION) == Money(7_740)
            assert uow.ledger.balance(payable()) == Money(0)  # never posted to
            assert uow.ledger.entry_count() == 2

    def test_the_same_posting_twice_is_applied_once(self, uow_factory: UowFactory) -> None:
        entry = captured(1_000)
        replay = JournalEntry(entry.key, T0 + timedelta(hours=1), tuple(reversed(entry.lines)), "again")
        [done] = post(uow_factory, entry)
        [again, once_more] = post(uow_factory, replay, entry)
        assert done.posted and not again.posted and again.already_posted and not once_more.posted
        assert again.entry == entry  # the stored one, with its own time and memo
        assert balance(uow_factory, CLEARING) == 1_000

    def test_a_key_reused_with_other_lines_is_refused_and_changes_nothing(self, uow_factory: UowFactory) -> None:
        entry = captured(1_000)
        post(uow_factory, entry)
        for other in (captured(1_001, k=entry.key),
                      JournalEntry(entry.key, T0, (debit(CLEARING, Money(1_000)), credit(COMMISSION, Money(1_000))))):
            with uow_factory() as uow:
                with pytest.raises(Conflict) as caught:
                    uow.ledger.post(other)
                assert caught.value.code == "ledger.key_reused"
                uow.ledger.post(captured(5))  # the unit of work is still usable
                uow.commit()
        assert balance(uow_factory, CLEARING) == 1_010
        assert balance(uow_factory, COMMISSION) == 0

    def test_a_rolled_back_posting_leaves_no_trace(self, uow_factory: UowFactory) -> None:
        entry = captured(700)
        with uow_factory() as uow:
            uow.ledger.post(entry)
        with uow_factory() as uow:
            assert uow.ledger.entry(entry.key) is None and uow.ledger.balance(CLEARING) == Money(0)
        assert post(uow_factory, entry)[0].posted

    def test_entries_round_trip_and_page_newest_first(self, uow_factory: UowFactory) -> None:
        therapist, other = payable(), payable()
        entries = [split(therapist, 1_000 + n, 700 + n, at=T0 + timedelta(hours=n)) for n in range(5)]
        post(uow_factory, *entries, split(other, 500, 300, at=T0 + timedelta(hours=2)))
        with uow_factory() as uow:
            assert uow.ledger.entry(entries[3].key) == entries[3]
            assert uow.ledger.entry("order:missing:completed") is None
            assert list(uow.ledger.entries(therapist)) == entries[::-1]
            assert list(uow.ledger.entries(therapist, offset=1, limit=2)) == entries[3:1:-1]
            window = uow.ledger.entries(therapist, since=T0 + timedelta(hours=1), until=T0 + timedelta(hours=3))
            assert list(window) == [entries[2], entries[1]]
            assert len(uow.ledger.entries(COMMISSION)) == 6
            assert uow.ledger.posted_keys([entries[0].key, "order:nope:completed", entries[4].key]) == {
                entries[0].key, entries[4].key}

    def test_an_entry_with_two_lines_on_one_account_is_listed_once(self, uow_factory: UowFactory) -> None:
        therapist = payable()
        entry = JournalEntry(key("bonus"), T0, (debit(LedgerAccount.of(Book.BONUS_EXPENSE), Money(300)),
                                                credit(therapist, Money(100)), credit(therapist, Money(200))))
        post(uow_factory, entry)
        with uow_factory() as uow:
            assert list(uow.ledger.entries(therapist)) == [entry]
            assert uow.ledger.balance(therapist) == Money(300)

    def test_balances_of_a_book_list_each_owner(self, uow_factory: UowFactory) -> None:
        first, second = payable(), payable()
        pending = LedgerAccount.of(Book.THERAPIST_PENDING, first.owner)
        post(uow_factory, split(first, 1_000, 600), split(second, 1_000, 800),
             JournalEntry(key("pending"), T0, (debit(first, Money(100)), credit(pending, Money(100)))))
        with uow_factory() as uow:
            found = {b.account: b.balance.fen for b in uow.ledger.balances(Book.THERAPIST_PAYABLE)}
            assert found == {first: 500, second: 800}
            assert [b.account for b in uow.ledger.balances(Book.THERAPIST_PENDING)] == [pending]
            [commission] = uow.ledger.balances(Book.COMMISSION_REVENUE)
            assert commission.balance == Money(600) and commission.updated_at == T0
            assert uow.ledger.balances(Book.GATEWAY_FEES) == []

    def test_the_verification_reads_agree_with_the_balances(self, uow_factory: UowFactory) -> None:
        therapist = payable()
        post(uow_factory, captured(2_000), split(therapist, 2_000, 1_500))
        with uow_factory() as uow:
            compared = {code: (recomputed, stored) for code, recomputed, stored in uow.ledger.compared_balances()}
            assert list(uow.ledger.unbalanced_entries()) == []
        assert compared == {CLEARING.code: (2_000, 2_000), PREPAID.code: (0, 0),
                            therapist.code: (1_500, 1_500), COMMISSION.code: (500, 500)}

    def test_concurrent_postings_to_the_same_accounts_lose_no_update(self, uow_factory: UowFactory) -> None:
        therapist, threads, each = payable(), 8, 5
        start = threading.Barrier(threads)

        def work(n: int) -> None:
            start.wait()
            for i in range(each):
                post(uow_factory, split(therapist, 100 + n, 10 + i, k=f"order:race{n}x{i}{unique()}:completed"))

        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(work, range(threads)))
        assert balance(uow_factory, therapist) == sum(10 + i for i in range(each)) * threads
        assert balance(uow_factory, PREPAID) == -sum(100 + n for n in range(threads)) * each
        with uow_factory() as uow:
            assert all(recomputed == stored for _, recomputed, stored in uow.ledger.compared_balances())

    def test_a_key_posted_concurrently_is_applied_exactly_once(self, uow_factory: UowFactory) -> None:
        therapist, threads = payable(), 8
        entry = split(therapist, 1_000, 700)
        start = threading.Barrier(threads)

        def work(_: int) -> bool:
            start.wait()
            return post(uow_factory, entry)[0].posted

        with ThreadPoolExecutor(threads) as pool:
            outcomes = list(pool.map(work, range(threads)))
        assert outcomes.count(True) == 1
        assert balance(uow_factory, therapist) == 700
        with uow_factory() as uow:
            assert uow.ledger.entry_count() == 1
