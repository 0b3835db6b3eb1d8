"""Sanctions and the quality facts on SQLite and PostgreSQL (decision 0039): the repository round trip through
the services, the texts encrypted at rest, one appeal per sanction kept by the storage, and concurrent double
appeals and double decisions ending with exactly one winner (and one reversal in the ledger)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError as DatabaseIntegrityError

from massage_core.adapters.crypto.field_cipher import AesGcmFieldCipher
from massage_core.adapters.memory.ids import UlidGenerator
from massage_core.adapters.sql.key_rotation import SqlFieldReencryptor
from massage_core.adapters.sql.tables_sanctions import sanction_appeals, sanctions
from massage_core.adapters.sql.uow import SqlUnitOfWork
from massage_core.bootstrap import Platform
from massage_core.domain import postings
from massage_core.domain.access import Actor, AdminRole, Role
from massage_core.domain.errors import Conflict, IntegrityError, MassageError
from massage_core.domain.ledger import Book, LedgerAccount
from massage_core.domain.money import Money
from massage_core.domain.sanctions import AppealState, Sanction, SanctionId
from catalog_support import make_profile
from massage_core.domain.ids import AccountId
from massage_core.domain.order_states import Who
from massage_core.domain.quality import ServiceRecord
from order_support import POLICY, START, accepted, in_every_state, minutes, placed
from storage_support import T0, Backend, make_account

SYSTEM = Actor.system()


def people(platform: Platform) -> tuple[Actor, Actor, Actor]:
    therapist, first, second = (make_account(roles=frozenset({Role.CUSTOMER, Role.THERAPIST})), make_account(),
                                make_account())
    with platform.deps.uow() as uow:
        for account in (therapist, first, second):
            uow.accounts.add(account)
        uow.ledger.post(postings.bonus("welcome", therapist.id, Money(50_000), T0, "welcome"))
        uow.commit()
    admin = frozenset({Role.ADMIN})
    return (Actor(therapist.id, roles=frozenset({Role.THERAPIST})),
            Actor(first.id, roles=admin, admin_roles=frozenset({AdminRole.SUPERADMIN})),
            Actor(second.id, roles=admin, admin_roles=frozenset({AdminRole.SUPPORT})))


def payable(platform: Platform, who: Actor) -> int:
    assert who.account_id is not None
    with platform.deps.uow() as uow:
        return uow.ledger.balance(LedgerAccount.of(Book.THERAPIST_PAYABLE, who.account_id)).fen


def test_round_trip_and_texts_encrypted_at_rest(platform: Platform) -> None:
    therapist, root, support = people(platform)
    assert therapist.account_id is not None
    made = platform.sanctions.impose(root, therapist.account_id, "deduction", "secret-reason-密", amount=7_000)
    warned = platform.sanctions.impose(root, therapist.account_id, "warning", "second")
    platform.sanctions.appeal(therapist, made.id, "secret-appeal-文")
    decided = platform.sanctions.decide_appeal(support, made.id, True, "secret-decision")
    assert (decided.state, decided.appeal_state, decided.reason, decided.appeal_text, decided.decision_reason,
            decided.amount, decided.imposed_by, decided.decided_by) == (
        "reversed", "upheld", "secret-reason-密", "secret-appeal-文", "secret-decision", Money(7_000),
        root.account_id, support.account_id)
    assert [s.id for s in platform.sanctions.mine(therapist)] == [warned.id, made.id]
    assert platform.sanctions.get(root, made.id) == decided
    assert [s.id for s in platform.sanctions.list(root, appeal="upheld")] == [made.id]
    assert payable(platform, therapist) == 50_000
    assert platform.engine is not None
    with platform.engine.connect() as connection:
        raw = " ".join(str(v) for table in (sanctions, sanction_appeals)
                       for row in connection.execute(select(table)) for v in row)
    assert "secret" not in raw and made.id in raw
    with platform.deps.uow() as uow:
        assert uow.sanctions.standing_counts([therapist.account_id], T0) == {therapist.account_id: 1}
        assert uow.sanctions.list(appeal=AppealState.PENDING) == []


def test_the_storage_keeps_one_appeal_per_sanction(platform: Platform) -> None:
    therapist, root, _ = people(platform)
    assert therapist.account_id is not None
    made = platform.sanctions.impose(root, therapist.account_id, "warning", "one")
    platform.sanctions.appeal(therapist, made.id, "first")
    assert platform.engine is not None
    with pytest.raises(DatabaseIntegrityError), platform.engine.begin() as connection:  # behind the repository
        connection.execute(insert(sanction_appeals).values(sanction_id=made.id, text_enc="x", filed_at=T0,
                                                           state="pending"))


def test_a_timed_suspension_is_lifted_by_the_jobs_rule(platform: Platform, clock: Any) -> None:
    therapist, root, _ = people(platform)
    assert therapist.account_id is not None
    with platform.deps.uow() as uow:
        uow.therapists.add(make_profile(therapist.account_id))
        uow.commit()
    made = platform.sanctions.impose(root, therapist.account_id, "suspension", "checks",
                                     ends_at=clock.now() + dt.timedelta(days=1))
    assert platform.therapists.profile(root, therapist.account_id).suspended
    clock.advance(dt.timedelta(days=1))
    assert platform.jobs.run_due(SYSTEM).lift_suspensions.fired == 1
    assert not platform.therapists.profile(root, therapist.account_id).suspended
    assert platform.sanctions.get(root, made.id).state == "ended"


def race(contenders: int, attempt: Callable[[int], Any]) -> tuple[list[Any], list[MassageError]]:
    start = threading.Barrier(contenders)
    won: list[Any] = []
    lost: list[MassageError] = []

    def run(n: int) -> None:
        start.wait()
        try:
            won.append(attempt(n))
        except MassageError as refused:
            lost.append(refused)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(contenders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return won, lost


def test_concurrent_appeals_and_decisions_end_with_one_winner(platform: Platform) -> None:
    therapist, root, support = people(platform)
    assert therapist.account_id is not None
    other = make_account()
    with platform.deps.uow() as uow:
        uow.accounts.add(other)
        uow.commit()
    third = Actor(other.id, roles=frozenset({Role.ADMIN}), admin_roles=frozenset({AdminRole.SUPERADMIN}))
    made = platform.sanctions.impose(root, therapist.account_id, "deduction", "no-show", amount=10_000)
    won, lost = race(6, lambda n: platform.sanctions.appeal(therapist, made.id, f"appeal {n}"))
    assert len(won) == 1 and len(lost) == 5
    assert {e.code for e in lost} <= {"conflict.stale", "appeal.once", "conflict.busy"}
    assert all(isinstance(e, Conflict) for e in lost)
    deciders = [support, third] * 3
    won, lost = race(6, lambda n: platform.sanctions.decide_appeal(deciders[n], made.id, True, f"ok {n}"))
    assert len(won) == 1 and len(lost) == 5
    assert {e.code for e in lost} <= {"conflict.stale", "invalid_transition", "conflict.busy"}
    assert payable(platform, therapist) == 50_000  # deducted once, paid back once
    with platform.deps.uow() as uow:
        keys = [e.key for e in uow.ledger.entries(LedgerAccount.of(Book.THERAPIST_PAYABLE, therapist.account_id))]
    assert sorted(k for k in keys if made.id in k) == [f"penalty:{made.id}", f"penalty:{made.id}:reversed"]
    assert platform.ledger.verify(SYSTEM).ok


def test_service_records_are_the_same_on_every_backend(backend: Backend) -> None:
    """The grouped read of ``orders.service_records`` on orders in every state (hand-counted), plus a late one."""
    customer, therapist, other, late_one, idle = (make_account() for _ in range(5))
    with backend.new_uow() as uow:
        for account in (customer, therapist, other, late_one, idle):
            uow.accounts.add(account)
        orders = list(in_every_state(customer.id, therapist.id, other.id).values())
        came = accepted(placed(customer.id, late_one.id), late_one.id).depart(Who.therapist(late_one.id),
                                                                               minutes(-10, START))
        orders.append(came.arrive(Who.therapist(late_one.id), minutes(20, START), POLICY))
        for order in orders:
            uow.orders.add(order)
        uow.commit()
    ids = [AccountId(a.id) for a in (therapist, other, late_one, idle)]
    with backend.new_uow() as uow:
        found = uow.orders.service_records(ids, T0, T0 + dt.timedelta(days=3))
        before = uow.orders.service_records(ids, T0, START)
    # therapist: arrived in arrived, in_service, finished, completed, disputed, no_show (6, all on time);
    # dropped the refunded one (their own cancellation: 7 due); finished 3, each after an SOS on the way
    assert found == {ids[0]: ServiceRecord(due=7, dropped=1, arrived=6, late=0, finished=3, with_sos=3),
                     ids[1]: ServiceRecord(), ids[2]: ServiceRecord(due=1, arrived=1, late=1),
                     ids[3]: ServiceRecord()}
    assert set(before.values()) == {ServiceRecord()}
    with backend.new_uow() as uow:
        assert uow.orders.service_records([], T0, START) == {}


def test_the_texts_are_rotated_and_bound_to_their_sanction(platform: Platform) -> None:
    therapist, root, _ = people(platform)
    assert therapist.account_id is not None and platform.engine is not None
    one = platform.sanctions.impose(root, therapist.account_id, "warning", "first reason")
    two = platform.sanctions.impose(root, therapist.account_id, "warning", "second reason")
    platform.sanctions.appeal(therapist, one.id, "my appeal")
    old = platform.deps.cipher
    assert isinstance(old, AesGcmFieldCipher)
    new = AesGcmFieldCipher(old.ring.rotated())
    rotation = SqlFieldReencryptor(platform.engine, new)
    assert rotation.pending() >= 3
    while rotation.reencrypt_batch(50):
        pass
    assert rotation.pending() == 0
    with SqlUnitOfWork(platform.engine, new, UlidGenerator()) as uow:
        stored = uow.sanctions.get(SanctionId(one.id))
        assert (stored.reason, stored.appeal.text if stored.appeal else None) == ("first reason", "my appeal")
    with platform.engine.begin() as connection:  # copy one sanction's token onto the other row
        token = connection.execute(select(sanctions.c.reason_enc).where(sanctions.c.id == one.id)).scalar_one()
        connection.execute(sanctions.update().where(sanctions.c.id == two.id).values(reason_enc=token))
    with SqlUnitOfWork(platform.engine, new, UlidGenerator()) as uow, pytest.raises(IntegrityError):
        uow.sanctions.get(SanctionId(two.id))


def test_the_repository_contract_on_every_backend(backend: Backend) -> None:
    """Ordering of the lists, the suspensions due to end and the standing counts, on memory, SQLite and
    PostgreSQL alike."""
    therapist, other = make_account(), make_account()
    day = dt.timedelta(days=1)

    def made(n: int, who: str, kind: str, at: dt.datetime, **extra: Any) -> Sanction:
        return Sanction.impose(SanctionId(f"snc_{n:026d}"), AccountId(who), kind, f"reason {n}", None, at, **extra)

    rows = [made(1, therapist.id, "warning", T0), made(2, therapist.id, "suspension", T0 + day, ends_at=T0 + 3 * day),
            made(3, other.id, "deduction", T0 + 2 * day, amount=Money(500)),
            made(4, therapist.id, "suspension", T0 + 2 * day, ends_at=T0 + 2.5 * day)]
    with backend.new_uow() as uow:
        uow.accounts.add(therapist)
        uow.accounts.add(other)
        stored = [uow.sanctions.add(s) for s in rows]
        with pytest.raises(Conflict) as twice:
            uow.sanctions.add(rows[0])
        assert twice.value.code == "sanction.duplicate"
        uow.sanctions.save(stored[0].file_appeal(AccountId(therapist.id), "no", T0 + day, 7))
        appealed = uow.sanctions.get(stored[2].id).file_appeal(AccountId(other.id), "no", T0 + 2 * day, 7)
        uow.sanctions.save(appealed)
        uow.commit()
    with backend.new_uow() as uow:
        s = uow.sanctions
        assert [x.id for x in s.for_therapist(AccountId(therapist.id))] == [rows[3].id, rows[1].id, rows[0].id]
        assert [x.id for x in s.for_therapist(AccountId(therapist.id), offset=1, limit=1)] == [rows[1].id]
        assert [x.id for x in s.list()] == [rows[3].id, rows[2].id, rows[1].id, rows[0].id]
        assert [x.id for x in s.list(appeal=AppealState.PENDING)] == [rows[0].id, rows[2].id]
        assert [x.id for x in s.due_to_end(T0 + 3 * day)] == [rows[3].id, rows[1].id]
        assert [x.id for x in s.due_to_end(T0 + 2.6 * day)] == [rows[3].id]
        assert s.standing_counts([AccountId(therapist.id), AccountId(other.id)], T0 + day) == {
            therapist.id: 2, other.id: 1}
        first = s.get(rows[0].id)
        assert first.appeal is not None and first.appeal.text == "no" and first.version == 2
        with pytest.raises(Conflict) as stale:
            s.save(stored[0])
        assert stale.value.code == "conflict.stale"


def test_concurrent_twins_of_one_request_post_once(platform: Platform) -> None:
    """A client retrying while its first request is still running: every twin answers with the one sanction or
    adjustment, and the ledger holds one entry for it."""
    therapist, root, support = people(platform)
    assert therapist.account_id is not None
    who = therapist.account_id
    won, lost = race(4, lambda n: platform.sanctions.impose(support, who, "deduction", "no-show", amount=30_000,
                                                            request_id="ticket-7"))
    assert lost == [] and len({s.id for s in won}) == 1
    won_warnings, lost = race(4, lambda n: platform.sanctions.impose(support, who, "warning", "late",
                                                                     request_id="ticket-8"))
    assert lost == [] and len({s.id for s in won_warnings}) == 1
    bonuses, lost = race(4, lambda n: platform.earnings.grant_bonus(root, who, Money(1_000), "referral",
                                                                    request_id="bonus-9"))
    assert lost == [] and len(set(bonuses)) == 1
    penalties, lost = race(4, lambda n: platform.earnings.deduct_penalty(root, who, Money(20_000), "late",
                                                                         request_id="pen-9"))
    assert lost == [] and len(set(penalties)) == 1
    assert payable(platform, therapist) == 50_000 - 30_000 + 1_000 - 20_000
    with platform.deps.uow() as uow:
        keys = [e.key for e in uow.ledger.entries(LedgerAccount.of(Book.THERAPIST_PAYABLE, who))]
    assert sorted(keys) == sorted(["bonus:welcome", f"penalty:{won[0].id}", f"bonus:{bonuses[0].reference}",
                                   f"penalty:{penalties[0].reference}"])
    assert [s.id for s in platform.sanctions.of_therapist(SYSTEM, who)] in (
        [won_warnings[0].id, won[0].id], [won[0].id, won_warnings[0].id])
    assert platform.ledger.verify(SYSTEM).ok
