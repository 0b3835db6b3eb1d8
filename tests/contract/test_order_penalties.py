"""``OrderRepository.penalties_of`` on memory, SQLite and PostgreSQL (decision 0023): the penalty records of a
therapist's settled orders, whatever state the order reached since, newest first, a page at a time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from massage_core.domain.cancellation import CancellationCause
from massage_core.domain.ids import AccountId
from massage_core.domain.order_states import Who
from massage_core.domain.orders import Order
from massage_core.ports.unit_of_work import UnitOfWork
from order_support import POLICY, START, accepted, minutes, placed
from schedule_support import new_therapist
from storage_support import new_id

UowFactory = Callable[[], UnitOfWork]


def therapist_cancelled(customer: AccountId, therapist: AccountId, at: int) -> Order:
    return accepted(placed(customer, therapist), therapist).cancel(Who.therapist(therapist), minutes(at), POLICY)


def test_penalties_of_lists_a_therapists_records_newest_first(uow_factory: UowFactory) -> None:
    customer, one, two = (new_therapist(uow_factory) for _ in range(3))
    early = therapist_cancelled(customer, one, 5)
    tied = therapist_cancelled(customer, one, 5)  # same time: the larger order id first
    refunded = therapist_cancelled(customer, one, 7).refund(Who.system(), minutes(8))
    absent = accepted(placed(customer, one), one).mark_no_show(Who.customer(customer), minutes(31, START), POLICY)
    others = therapist_cancelled(customer, two, 6)
    by_customer = accepted(placed(customer, one), one).cancel(Who.customer(customer), minutes(9), POLICY)
    unsettled = accepted(placed(customer, one), one)
    with uow_factory() as uow:
        for order in (early, tied, refunded, absent, others, by_customer, unsettled):
            uow.orders.add(order)
        uow.commit()
    first, second = sorted((early, tied), key=lambda o: o.id, reverse=True)
    expected = [absent, refunded, first, second]
    with uow_factory() as uow:
        found = uow.orders.penalties_of(one)
        assert [r.order_id for r in found] == [o.id for o in expected]
        assert [r.penalty for r in found] == [o.settlement.penalty for o in expected if o.settlement]
        assert [r.penalty.cause for r in found] == [CancellationCause.THERAPIST_NO_SHOW] + \
            [CancellationCause.THERAPIST_CANCELLED] * 3
        assert found[0].penalty.at == minutes(31, START) and found[0].penalty.therapist_id == one
        assert [r.order_id for r in uow.orders.penalties_of(one, offset=1, limit=2)] == [refunded.id, first.id]
        assert uow.orders.penalties_of(one, offset=4) == []
        assert [r.order_id for r in uow.orders.penalties_of(two)] == [others.id]
        assert uow.orders.penalties_of(customer) == []
        assert uow.orders.penalties_of(AccountId(new_id("account"))) == []


def test_a_penalty_survives_saving_the_refund(uow_factory: UowFactory) -> None:
    customer, therapist = new_therapist(uow_factory), new_therapist(uow_factory)
    cancelled = therapist_cancelled(customer, therapist, 5)
    with uow_factory() as uow:
        stored = uow.orders.add(cancelled)
        uow.commit()
    with uow_factory() as uow:
        uow.orders.save(stored.refund(Who.system(), minutes(6)))
        uow.commit()
    with uow_factory() as uow:
        [record] = uow.orders.penalties_of(therapist)
        assert (record.order_id, record.penalty) == (cancelled.id, cancelled.settlement.penalty if
                                                     cancelled.settlement else None)


# -- late arrivals (decision 0025) --------------------------------------------------------------------------------


def arrived_late(customer: AccountId, therapist: AccountId, late: float) -> Order:
    """Accepted, departed 30 min before the start and arrived ``late`` minutes after it."""
    t = Who.therapist(therapist)
    return accepted(placed(customer, therapist), therapist).depart(t, minutes(-30, START)).arrive(
        t, minutes(late, START), POLICY)


def test_late_arrivals_are_penalty_records_beside_the_settlements(uow_factory: UowFactory) -> None:
    customer, one, two = (new_therapist(uow_factory) for _ in range(3))
    late = arrived_late(customer, one, 20)
    walked = arrived_late(customer, one, 16).cancel(Who.therapist(one), minutes(17, START), POLICY)  # both records
    let_go = arrived_late(customer, one, 25).cancel(Who.customer(customer), minutes(26, START), POLICY) \
        .refund(Who.system(), minutes(27, START))  # the late record only: one lateness, one record
    waiting = accepted(placed(customer, one), one).cancel(Who.customer(customer), minutes(18, START), POLICY)
    on_time = arrived_late(customer, one, 15)
    same_instant = arrived_late(customer, two, 16).cancel(Who.therapist(two), minutes(16, START), POLICY)
    with uow_factory() as uow:
        for order in (late, walked, let_go, waiting, on_time, same_instant):
            uow.orders.add(order)
        uow.commit()
    assert on_time.late_arrival is None and let_go.settlement is not None and let_go.settlement.penalty is None
    with uow_factory() as uow:
        found = uow.orders.penalties_of(one)
        assert [(r.order_id, r.penalty.cause.value, r.penalty.at) for r in found] == [
            (let_go.id, "therapist_late", minutes(25, START)),
            (late.id, "therapist_late", minutes(20, START)),
            (waiting.id, "therapist_late", minutes(18, START)),
            (walked.id, "therapist_cancelled", minutes(17, START)),
            (walked.id, "therapist_late", minutes(16, START)),
        ]
        assert all(r.penalty.therapist_id == one for r in found)
        assert [r.penalty for r in uow.orders.penalties_of(one, offset=3, limit=2)] == [
            walked.settlement.penalty if walked.settlement else None,
            walked.late_arrival.penalty if walked.late_arrival else None]
        # the same instant: the settlement's record before the late arrival's
        assert [r.penalty.cause for r in uow.orders.penalties_of(two)] == [
            CancellationCause.THERAPIST_CANCELLED, CancellationCause.THERAPIST_LATE]
        assert uow.orders.penalties_of(customer) == []
        for order in (late, walked, let_go, on_time):
            stored = uow.orders.get(order.id)
            assert (stored.late_arrival, stored.late_minutes, stored.settlement) == (
                order.late_arrival, order.late_minutes, order.settlement)
        assert uow.orders.get(let_go.id).late_minutes == 25


def test_a_late_arrival_is_saved_and_read_back(uow_factory: UowFactory) -> None:
    customer, therapist = new_therapist(uow_factory), new_therapist(uow_factory)
    t = Who.therapist(therapist)
    on_the_way = accepted(placed(customer, therapist), therapist).depart(t, minutes(-30, START))
    with uow_factory() as uow:
        stored = uow.orders.add(on_the_way)
        uow.commit()
    with uow_factory() as uow:
        uow.orders.save(stored.arrive(t, minutes(15, START) + timedelta(seconds=1), POLICY))
        uow.commit()
    with uow_factory() as uow:
        loaded = uow.orders.get(on_the_way.id)
        assert loaded.late_minutes == 16 and loaded.timeline[-1].note == "16 min late"
        assert loaded.late_arrival is not None and loaded.late_arrival.penalty.at == minutes(15, START) + timedelta(
            seconds=1)
        uow.orders.save(loaded.cancel(Who.customer(customer), minutes(20, START), POLICY))
        uow.commit()
    with uow_factory() as uow:
        cancelled = uow.orders.get(on_the_way.id)
        assert cancelled.settlement is not None and cancelled.settlement.cause is CancellationCause.THERAPIST_LATE
        assert cancelled.settlement.refund == cancelled.paid and cancelled.late_arrival == loaded.late_arrival
        assert [r.penalty.cause for r in uow.orders.penalties_of(therapist)] == [CancellationCause.THERAPIST_LATE]
