"""``OrderRepository.penalties_of`` on memory, SQLite and PostgreSQL (decision 0023): the penalty records of a
therapist's settled orders, whatever state the order reached since, newest first, a page at a time."""

from __future__ import annotations

from collections.abc import Callable

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
