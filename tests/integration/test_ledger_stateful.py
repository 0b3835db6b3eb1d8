"""A Hypothesis state machine acting as the ledger's auditor on memory, SQLite and PostgreSQL.

It posts random balanced entries across platform and therapist accounts, replays them (same lines, any order),
reuses their keys with other lines and rolls postings back; after every step the stored balances equal the
balances recomputed from the lines, total debits equal total credits, every balance matches an independent
model, and no business key was applied twice.
"""

from __future__ import annotations

import itertools
from typing import Any

import pendulum
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test

from massage_core.domain.errors import Conflict
from massage_core.domain.ledger import Book, JournalEntry, JournalLine, LedgerAccount, Side
from massage_core.domain.money import Money
from massage_core.ports.unit_of_work import UnitOfWork
from massage_core.services.ledger import completion_key
from storage_support import Backend, new_id

AT = pendulum.datetime(2026, 1, 5, 2, tz="UTC")
_runs = itertools.count()
PLATFORM_BOOKS = [book for book in Book if not book.per_owner]
OWNER_BOOKS = [book for book in Book if book.per_owner]

BUDGET = {"memory": (25, 20), "sqlite": (10, 15), "postgres": (8, 15)}
"""Examples and steps per example on each backend."""


def raw(code: str, fen: int) -> int:
    """A normal-sense balance as debits minus credits."""
    return fen if Book(code.partition(":")[0]).kind.debit_normal else -fen


@st.composite
def line_plans(draw: Any) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Debit and credit lines as (account index, fen), balanced: the credits split the debits' total."""
    debits = draw(st.lists(st.tuples(st.integers(0, 99), st.integers(1, 50_000)), min_size=1, max_size=4))
    total = sum(fen for _, fen in debits)
    parts = draw(st.integers(1, min(4, total)))
    cuts = sorted(draw(st.lists(st.integers(1, total - 1), min_size=parts - 1, max_size=parts - 1,
                                unique=True))) if parts > 1 else []
    amounts = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
    credits = [(draw(st.integers(0, 99)), fen) for fen in amounts]
    return debits, credits


class LedgerAuditor(RuleBasedStateMachine):
    """Posts through ``uow_factory`` and audits after every step (see the module docstring)."""

    uow_factory: Any = None

    def __init__(self) -> None:
        super().__init__()
        self.run = next(_runs)
        owners = [new_id("account") for _ in range(3)]
        self.accounts = [LedgerAccount.of(b) for b in PLATFORM_BOOKS] + [
            LedgerAccount.of(b, o) for b in OWNER_BOOKS for o in owners]
        self.posted: dict[str, JournalEntry] = {}
        self.model: dict[str, int] = {}
        self.entries_before = 0
        self.serial = itertools.count()

    def uow(self) -> UnitOfWork:
        factory = type(self).uow_factory
        assert factory is not None
        uow: UnitOfWork = factory()
        return uow

    @initialize()
    def baseline(self) -> None:
        with self.uow() as uow:
            self.model = {code: stored or 0 for code, _, stored in uow.ledger.compared_balances()}
            self.entries_before = uow.ledger.entry_count()

    def entry(self, plan: tuple[list[tuple[int, int]], list[tuple[int, int]]], key: str) -> JournalEntry:
        debits, credits = plan
        pick = self.accounts
        lines = [JournalLine(pick[i % len(pick)], Side.DEBIT, Money(f)) for i, f in debits]
        lines += [JournalLine(pick[i % len(pick)], Side.CREDIT, Money(f)) for i, f in credits]
        return JournalEntry(key, AT.add(minutes=next(self.serial)), tuple(lines))

    @rule(plan=line_plans(), order_event=st.booleans())
    def post_new(self, plan: Any, order_event: bool) -> None:
        key = completion_key(f"ord_run{self.run}n{len(self.posted)}") if order_event else \
            f"run{self.run}:event{len(self.posted)}"
        entry = self.entry(plan, key)
        with self.uow() as uow:
            assert uow.ledger.post(entry).posted
            uow.commit()
        self.posted[key] = entry
        for account, delta in entry.effects().items():
            self.model[account.code] = self.model.get(account.code, 0) + delta

    @precondition(lambda self: bool(self.posted))
    @rule(data=st.data(), shuffle=st.randoms(use_true_random=False))
    def replay(self, data: Any, shuffle: Any) -> None:
        original = self.posted[data.draw(st.sampled_from(sorted(self.posted)))]
        lines = list(original.lines)
        shuffle.shuffle(lines)
        with self.uow() as uow:
            result = uow.ledger.post(JournalEntry(original.key, AT.add(days=1), tuple(lines), "replayed"))
            uow.commit()
        assert not result.posted and result.entry == original

    @precondition(lambda self: bool(self.posted))
    @rule(data=st.data(), plan=line_plans())
    def reuse_key(self, data: Any, plan: Any) -> None:
        original = self.posted[data.draw(st.sampled_from(sorted(self.posted)))]
        other = self.entry(plan, original.key)
        if other.same_posting(original):
            return
        with self.uow() as uow:
            with pytest.raises(Conflict) as caught:
                uow.ledger.post(other)
            assert caught.value.code == "ledger.key_reused"
            uow.commit()

    @rule(plan=line_plans())
    def roll_back(self, plan: Any) -> None:
        with self.uow() as uow:
            assert uow.ledger.post(self.entry(plan, f"run{self.run}:dropped{next(self.serial)}")).posted
            uow.rollback()

    @invariant()
    def books_agree(self) -> None:
        with self.uow() as uow:
            compared = list(uow.ledger.compared_balances())
            count = uow.ledger.entry_count()
            stored_keys = uow.ledger.posted_keys(self.posted)
        assert all(recomputed == stored for _, recomputed, stored in compared), "stored != recomputed"
        assert sum(raw(code, recomputed) for code, recomputed, _ in compared) == 0, "debits != credits"
        stored = {code: fen for code, _, fen in compared}
        assert {code: fen for code, fen in self.model.items() if fen or code in stored} == \
            {code: fen for code, fen in stored.items() if fen or code in self.model}
        assert count == self.entries_before + len(self.posted), "a key was applied twice, or lost"
        assert stored_keys == set(self.posted)


def test_the_ledger_auditor(backend: Backend) -> None:
    examples, steps = BUDGET[backend.name]
    LedgerAuditor.uow_factory = backend.new_uow
    try:
        run_state_machine_as_test(LedgerAuditor, settings=settings(
            max_examples=examples, stateful_step_count=steps, deadline=None, derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
    finally:
        LedgerAuditor.uow_factory = None
