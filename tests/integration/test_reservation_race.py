"""Acceptance 3: racing threads never double-book a therapist, and without the protection they do.

Each round puts two contested slots on the table; every thread of the round
asks for one interval overlapping all the others of its slot (different
starts, lengths and buffers), all released together by a barrier.  Some
rounds first plant an expired hold in the way, which the winner has to
retire.  Afterwards: exactly one winner per contested slot, every loser got
``Conflict("reservation.overlap")``, and no two live reservations overlap.

The same race against an unprotected store -- SQLite without the re-check
(a test double of the unit of work), PostgreSQL with the exclusion
constraint dropped -- double-books, which shows the protection is what
makes the first test pass.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection

from massage_core.adapters.crypto.field_cipher import AesGcmFieldCipher
from massage_core.adapters.crypto.keyring import KeyRing
from massage_core.adapters.memory.ids import UlidGenerator
from massage_core.adapters.sql.engine import make_engine
from massage_core.adapters.sql.repositories.reservations import SqlReservationRepository
from massage_core.adapters.sql.tables_schedules import NO_OVERLAP
from massage_core.adapters.sql.uow import SqlUnitOfWork
from massage_core.domain.errors import Conflict
from massage_core.domain.ids import AccountId
from massage_core.domain.reservations import Reservation
from massage_core.ports.unit_of_work import UnitOfWork
from schedule_support import new_therapist, reservation
from storage_support import T0, Backend

THREADS = 8
ROUNDS = {"memory": 60, "sqlite": 150, "postgres": 150}
UNPROTECTED_ROUNDS = 10
CONSTRAINT_ONLY_ROUNDS = 40
SLOT_GAP = timedelta(hours=3)
ROUND_GAP = timedelta(hours=6)
NOW = T0
LAPSED = T0 - timedelta(minutes=1)


class UnprotectedUnitOfWork(SqlUnitOfWork):
    """A test double: the SQL unit of work with the SQLite re-check switched off."""

    def _bind(self, connection: Connection) -> None:
        super()._bind(connection)
        self.reservations = SqlReservationRepository(connection, recheck=False)


class ConstraintOnlyRepository(SqlReservationRepository):
    """PostgreSQL without the per-therapist queue: concurrent inserts meet in the exclusion constraint."""

    def _queue_behind_other_inserters(self, therapist_id: str) -> None:
        return None


class ConstraintOnlyUnitOfWork(SqlUnitOfWork):
    """A test double binding ``ConstraintOnlyRepository``."""

    def _bind(self, connection: Connection) -> None:
        super()._bind(connection)
        self.reservations = ConstraintOnlyRepository(connection)


def contender(therapist: AccountId, round_no: int, thread: int, rng: random.Random) -> tuple[int, Reservation]:
    """Thread ``thread``'s request in round ``round_no``: slot = thread % 2; every request of a slot covers
    [slot + 30 min, slot + 60 min), so any two of one slot overlap and the two slots never do."""
    slot = thread % 2
    base = T0 + timedelta(days=1) + round_no * ROUND_GAP + slot * SLOT_GAP
    start = base + timedelta(minutes=rng.choice((0, 15, 30)))
    return slot, reservation(therapist, start, minutes=rng.choice((60, 90)), buffer=rng.choice((0, 15, 30)),
                             ref=f"r{round_no}-t{thread}")


def race(new_uow: Callable[[], UnitOfWork], therapist: AccountId, rounds: int, seed: int,
         losses: tuple[str, ...] = ("reservation.overlap",)) -> dict[tuple[int, int], int]:
    """Run the rounds; return the number of winners per (round, slot).  A refusal not in ``losses`` fails."""
    rng = random.Random(seed)
    plan = [[contender(therapist, r, t, rng) for t in range(THREADS)] for r in range(rounds)]
    with new_uow() as uow:  # every third round: an expired hold in slot 0's way
        for r in range(0, rounds, 3):
            start = T0 + timedelta(days=1) + r * ROUND_GAP + timedelta(minutes=20)
            uow.reservations.add(reservation(therapist, start, hold_until=T0 - timedelta(minutes=5),
                                             now=T0 - timedelta(minutes=30)), T0 - timedelta(minutes=30))
        uow.commit()
    wins: dict[tuple[int, int], int] = {(r, s): 0 for r in range(rounds) for s in (0, 1)}
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def worker(thread: int) -> None:
        for r in range(rounds):
            slot, request = plan[r][thread]
            try:
                barrier.wait(timeout=60)
                with new_uow() as uow:
                    uow.reservations.add(request, NOW)
                    uow.commit()
                with lock:
                    wins[(r, slot)] += 1
            except Conflict as refused:
                if refused.code not in losses:
                    errors.append(refused)
            except BaseException as exc:  # reported by the test
                errors.append(exc)
                barrier.abort()
                return

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads), "a racing thread hung"
    assert errors == []
    return wins


def live_overlaps(new_uow: Callable[[], UnitOfWork], therapist: AccountId) -> int:
    """How many pairs of live reservations of the therapist overlap (blocked intervals)."""
    with new_uow() as uow:
        live = uow.reservations.between(therapist, T0 - timedelta(days=1), T0 + timedelta(days=400), live_at=NOW)
    spans = sorted(r.blocked_span for r in live)
    return sum(1 for i, a in enumerate(spans) for b in spans[i + 1:] if b[0] < a[1])


def test_racing_threads_leave_exactly_one_winner_per_contested_slot(backend: Backend) -> None:
    therapist = new_therapist(backend.new_uow)
    rounds = ROUNDS[backend.name]
    wins = race(backend.new_uow, therapist, rounds, seed=rounds)
    assert set(wins.values()) == {1}, {k: v for k, v in wins.items() if v != 1}
    assert live_overlaps(backend.new_uow, therapist) == 0
    with backend.new_uow() as uow:
        live = uow.reservations.between(therapist, T0, T0 + timedelta(days=400), live_at=NOW)
    assert len(live) == 2 * rounds


def test_without_the_protection_the_same_race_double_books(sql_backend: Backend) -> None:
    engine = sql_backend.engine
    if sql_backend.name == "postgres":
        with engine.begin() as connection:
            connection.execute(text(f"ALTER TABLE reservations DROP CONSTRAINT {NO_OVERLAP}"))
        new_uow: Callable[[], UnitOfWork] = sql_backend.new_uow
    else:
        cipher, ids = sql_backend.cipher, UlidGenerator()
        new_uow = lambda: UnprotectedUnitOfWork(engine, cipher, ids)  # noqa: E731
    therapist = new_therapist(new_uow)
    wins = race(new_uow, therapist, UNPROTECTED_ROUNDS, seed=7)
    assert max(wins.values()) > 1
    assert live_overlaps(new_uow, therapist) > 0


@pytest.mark.parametrize("constraint", ["kept", "dropped"])
def test_on_postgres_an_interleaved_pair_is_stopped_by_the_constraint_alone(pg_url: str, constraint: str) -> None:
    """A holds an uncommitted reservation; B tries an overlapping one and waits (for A's therapist lock);
    A commits; B goes on -- and only the constraint refuses it."""
    engine = make_engine(pg_url)
    cipher, ids = AesGcmFieldCipher(KeyRing.generate()), UlidGenerator()
    backend = Backend("postgres", lambda: SqlUnitOfWork(engine, cipher, ids), engine=engine)
    try:
        if constraint == "dropped":
            with backend.engine.begin() as connection:
                connection.execute(text(f"ALTER TABLE reservations DROP CONSTRAINT {NO_OVERLAP}"))
        therapist = new_therapist(backend.new_uow)
        first = reservation(therapist, T0 + timedelta(days=1))
        second = reservation(therapist, T0 + timedelta(days=1, minutes=30))
        outcome: list[object] = []

        def b_inserts() -> None:
            try:
                with backend.new_uow() as uow:
                    uow.reservations.add(second, NOW)
                    uow.commit()
                outcome.append("committed")
            except Conflict as refused:
                outcome.append(refused.code)

        with backend.new_uow() as a:
            a.reservations.add(first, NOW)
            b = threading.Thread(target=b_inserts)
            b.start()
            wait_until_blocked(backend)
            a.commit()
        b.join(timeout=60)
        assert not b.is_alive()
        assert outcome == (["reservation.overlap"] if constraint == "kept" else ["committed"])
        assert live_overlaps(backend.new_uow, therapist) == (0 if constraint == "kept" else 1)
    finally:
        backend.engine.dispose()


def wait_until_blocked(backend: Backend) -> None:
    """Poll PostgreSQL until some session waits for a lock (B behind A's uncommitted row)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with backend.engine.connect() as connection:
            waiting = connection.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'")).scalar_one()
        if waiting:
            return
        time.sleep(0.01)
    raise AssertionError("the second inserter never waited for the first")


def test_on_postgres_the_constraint_alone_never_double_books_under_true_concurrency(pg_url: str) -> None:
    """Without the per-therapist queue, inserts really run at once; some of them deadlock (PostgreSQL checks an
    exclusion constraint after inserting the index entry) and are refused as busy -- but none double-books."""
    engine = make_engine(pg_url)
    cipher, ids = AesGcmFieldCipher(KeyRing.generate()), UlidGenerator()
    new_uow: Callable[[], UnitOfWork] = lambda: ConstraintOnlyUnitOfWork(engine, cipher, ids)  # noqa: E731
    try:
        therapist = new_therapist(new_uow)
        wins = race(new_uow, therapist, CONSTRAINT_ONLY_ROUNDS, seed=11,
                    losses=("reservation.overlap", "conflict.busy"))
        assert max(wins.values()) == 1
        assert live_overlaps(new_uow, therapist) == 0
    finally:
        engine.dispose()

