"""Issue 5, acceptance 2 on SQLite and PostgreSQL: a payout batch run twice (or four times) at once pays once.

Several therapists each ask for a withdrawal; finance approves them; the batch total is above the two-admin
threshold, so two different finance admins approve the batch.  Then two (or four) runners -- each its own
``Platform`` and engine on the same database, as two cron jobs would be -- run the batch at the same moment.
They share one payout provider (the sandbox, recording every ``send``; one payout is made to fail).

Afterwards: the provider was asked for each withdrawal's payout exactly once; each withdrawal is paid (or
failed) once; the ledger holds each withdrawal's ``sent`` and ``paid`` / ``bounced`` entry once (two entries
per withdrawal more than before the runs), every hold is released once (holds and payout clearing at zero,
the failed one's amount back in its therapist's available balance once); ``ledger verify`` is clean.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator

import pendulum
import pytest

from massage_core.adapters.crypto.keyring import KeyRing
from massage_core.adapters.crypto.passwords import Argon2idPasswordHasher
from massage_core.adapters.memory.clock import FixedClock
from massage_core.adapters.memory.payouts import SandboxPayoutGateway
from massage_core.bootstrap import Platform
from massage_core.domain import postings
from massage_core.domain.access import Actor, AdminRole, Role
from massage_core.domain.errors import Conflict, MassageError
from massage_core.domain.ids import AccountId
from massage_core.domain.ledger import Book, LedgerAccount
from massage_core.domain.money import Money
from massage_core.domain.withdrawals import WithdrawalState
from massage_core.ports.payouts import PayoutResult
from massage_core.services.base import Policies
from massage_core.services.payout_batches import BatchLine
from storage_support import T0, Backend, make_account

FUNDED = 100_000
AMOUNTS = (30_000, 45_000, 60_000, 25_000, 80_000)
THRESHOLD = Policies(batch_two_admin_threshold_fen=100_000)
"""¥1,000: the batch (¥2,400) needs two finance admins."""
#: What a runner may meet while others hold the database: it runs the batch again, as cron would.
RETRY = {"conflict.busy", "conflict.stale"}


class RecordingPayouts(SandboxPayoutGateway):
    """The sandbox provider, remembering every ``send`` it was asked for (one provider shared by every runner)."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []
        self._asked_lock = threading.Lock()

    def send(self, withdrawal_id: str, therapist_id: AccountId, net: Money) -> PayoutResult:
        with self._asked_lock:
            self.asked.append(withdrawal_id)
        return super().send(withdrawal_id, therapist_id, net)


def runner(backend: Backend, clock: FixedClock, keyring: KeyRing, payouts: RecordingPayouts) -> Platform:
    """One cron job: its own platform and engine on the shared database, the shared payout provider."""
    assert backend.url is not None
    made = Platform.from_url(backend.url, keyring=keyring, clock=clock, policies=THRESHOLD,
                             hasher=Argon2idPasswordHasher.for_tests())
    return Platform(made.deps, engine=made.engine, payout_gateway=payouts)


class Books:
    """The set-up: funded therapists, their approved withdrawals, two finance admins."""

    def __init__(self, platform: Platform) -> None:
        accounts = [make_account() for _ in AMOUNTS]
        admins = [make_account(roles=frozenset({Role.ADMIN})) for _ in range(2)]
        with platform.deps.uow() as uow:
            for account in (*accounts, *admins):
                uow.accounts.add(account)
            for n, account in enumerate(accounts):
                uow.ledger.post(postings.bonus(f"fund-{n}", account.id, Money(FUNDED), T0, "funding"))
            uow.commit()
        self.finance = [Actor(a.id, roles=frozenset({Role.ADMIN}), admin_roles=frozenset({AdminRole.FINANCE}))
                        for a in admins]
        self.therapists = [a.id for a in accounts]
        self.withdrawals: dict[str, AccountId] = {}
        for account, amount in zip(accounts, AMOUNTS):
            made = platform.withdrawals.request(Actor(account.id, roles=frozenset({Role.THERAPIST})), amount)
            platform.withdrawals.approve(self.finance[0], made.id)
            self.withdrawals[made.id] = account.id
        self.failing = sorted(self.withdrawals)[1]


def run_at_once(runners: list[Platform], who: list[Actor], batch: str) -> list[BatchLine]:
    """Every runner runs ``batch`` at once (again after a busy database, as cron would); the lines of every
    attempt, as their progress reported them."""
    start = threading.Barrier(len(runners))
    lines: list[BatchLine] = []
    errors: list[BaseException] = []

    def run(platform: Platform, actor: Actor) -> None:
        try:
            start.wait()
            while True:
                try:
                    platform.withdrawals.run_batch(actor, batch, progress=lambda line, _: lines.append(line))
                    return
                except Conflict as conflict:
                    if conflict.code not in RETRY:
                        raise
        except (MassageError, AssertionError) as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(p, who[n % len(who)])) for n, p in enumerate(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return lines


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(pendulum.datetime(2026, 1, 20, 2, tz="UTC"))


@pytest.fixture
def payouts() -> RecordingPayouts:
    return RecordingPayouts()


@pytest.fixture
def keyring() -> KeyRing:
    return KeyRing.generate()


@pytest.fixture
def main(sql_backend: Backend, clock: FixedClock, keyring: KeyRing, payouts: RecordingPayouts) -> Iterator[Platform]:
    made = runner(sql_backend, clock, keyring, payouts)
    yield made
    made.close()


@pytest.mark.parametrize("runs", [2, 4])
def test_a_batch_run_several_times_at_once_pays_once(sql_backend: Backend, clock: FixedClock, keyring: KeyRing,
                                                     payouts: RecordingPayouts, main: Platform, runs: int) -> None:
    books = Books(main)
    payouts.fail(books.failing, "account closed")
    first, second = books.finance
    batch = main.withdrawals.batch(first)
    assert batch.needs_two_admins and sorted(w.id for w in batch.withdrawals) == sorted(books.withdrawals)
    main.withdrawals.approve_batch(first, batch.id)
    main.withdrawals.approve_batch(second, batch.id)
    with main.deps.uow() as uow:
        entries_before = uow.ledger.entry_count()
    runners = [runner(sql_backend, clock, keyring, payouts) for _ in range(runs)]
    try:
        lines = run_at_once(runners, books.finance, batch.id)
    finally:
        for made in runners:
            made.close()

    assert Counter(payouts.asked) == {wid: 1 for wid in books.withdrawals}  # each payout asked for once
    assert set(payouts.sent) == set(books.withdrawals) - {books.failing}
    settled_by = Counter((line.withdrawal.id, line.outcome) for line in lines if line.outcome != "skipped")
    assert settled_by == {(wid, "failed" if wid == books.failing else "paid"): 1 for wid in books.withdrawals}
    settled = {w.id: w for w in main.withdrawals.list(first, offset=0, limit=50)}
    assert {wid: w.state for wid, w in settled.items()} == {
        wid: WithdrawalState.FAILED if wid == books.failing else WithdrawalState.PAID for wid in books.withdrawals}
    assert all(w.version == 3 for w in settled.values())  # added, approved, then paid or failed: one save each
    with main.deps.uow() as uow:
        assert uow.ledger.entry_count() == entries_before + 2 * len(AMOUNTS)
        for wid in books.withdrawals:
            outcome = "bounced" if wid == books.failing else "paid"
            stored = uow.ledger.posted_keys([f"withdrawal:{wid}:{event}" for event in
                                             ("held", "sent", "paid", "bounced", "released")])
            assert stored == {f"withdrawal:{wid}:{e}" for e in ("held", "sent", outcome)}
        for wid, therapist in books.withdrawals.items():
            amount = settled[wid].amount.fen
            assert uow.ledger.balance(LedgerAccount.of(Book.WITHDRAWAL_HOLDS, therapist)).fen == 0
            assert uow.ledger.balance(LedgerAccount.of(Book.THERAPIST_PAYABLE, therapist)).fen == (
                FUNDED if wid == books.failing else FUNDED - amount)
        assert uow.ledger.balance(LedgerAccount.of(Book.PAYOUT_CLEARING)).fen == 0
    assert sum(1 for e in main.audit.entries(Actor.system(), limit=500) if e.action == "withdrawals.pay") == len(
        AMOUNTS)
    assert main.ledger.verify(Actor.system()).ok
