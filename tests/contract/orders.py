"""The OrderRepository contract: whole aggregates round-trip, lists, timers' queries, optimistic locking."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import attrs
import pytest

from massage_core.domain.errors import Conflict, MassageError, NotFound
from massage_core.domain.ids import AccountId
from massage_core.domain.order_states import OrderId, OrderState, Who
from massage_core.domain.money import Money
from massage_core.domain.orders import Order
from massage_core.domain.quotes import LineKind, QuoteLine
from massage_core.domain.visit_address import VisitAddress
from massage_core.ports.unit_of_work import UnitOfWork
from order_support import POLICY, START, accepted, happy_path, in_every_state, minutes, paid, placed
from schedule_support import new_therapist
from storage_support import T0, new_id

UowFactory = Callable[[], UnitOfWork]


def stored(order: Order, version: int = 1) -> Order:
    return attrs.evolve(order.clear_events(), version=version)


def add(uow_factory: UowFactory, *orders: Order) -> list[Order]:
    with uow_factory() as uow:
        added = [uow.orders.add(order) for order in orders]
        uow.commit()
    return added


def ids(orders: object) -> list[str]:
    return [order.id for order in orders]  # type: ignore[attr-defined]


class OrderRepositoryContract:
    """Every OrderRepository adapter behaves like this."""

    def test_an_order_in_every_state_round_trips_exactly(self, uow_factory: UowFactory) -> None:
        customer, therapist, other = (new_therapist(uow_factory) for _ in range(3))
        orders = in_every_state(customer, therapist, other)
        added = add(uow_factory, *orders.values())
        assert added == [stored(order) for order in orders.values()] and all(o.events == () for o in added)
        with uow_factory() as uow:
            for state, order in orders.items():
                assert uow.orders.get(order.id) == stored(order), state
        settled = orders[OrderState.REFUNDED]
        assert settled.settlement is not None and settled.settlement.penalty is not None
        assert orders[OrderState.CANCELLED].settlement is not None
        assert orders[OrderState.AWAITING_ACCEPTANCE].rejected_by == (therapist,)

    def test_the_bill_level_address_and_dispatch_round_trip(self, uow_factory: UowFactory) -> None:
        customer, therapist = (new_therapist(uow_factory) for _ in range(2))
        bill = (QuoteLine(LineKind.SERVICE, Money(25_800)), QuoteLine(LineKind.TRAVEL, Money(1_200)),
                QuoteLine(LineKind.DISCOUNT, Money(-3_000)), QuoteLine(LineKind.TIP, Money(500)))
        order = Order.place(OrderId(new_id("order")), customer, placed(customer, therapist).service_id,
                            placed(customer, therapist).scheduled, Money(24_500), T0, None, bill=bill,
                            level="senior", address=VisitAddress.at(31.2304, 121.4737, "南京东路100号 1201"),
                            gender_preference="female")
        add(uow_factory, order)
        with uow_factory() as uow:
            found = uow.orders.get(order.id)
        assert found == stored(order) and found.bill == bill and found.level == "senior"
        with pytest.raises(MassageError) as caught:
            Order.place(OrderId(new_id("order")), customer, order.service_id, order.scheduled, Money(1), T0,
                        therapist, bill=bill)
        assert caught.value.code == "order.bill"

    def test_saving_each_step_appends_the_timeline_and_bumps_the_version(self, uow_factory: UowFactory) -> None:
        customer, therapist = new_therapist(uow_factory), new_therapist(uow_factory)
        path = happy_path(customer, therapist)
        (current,) = add(uow_factory, path[0])
        for step in path[1:]:
            changed = attrs.evolve(step, version=current.version)
            with uow_factory() as uow:
                current = uow.orders.save(changed)
                uow.commit()
            assert current == stored(step, changed.version + 1) and current.events == ()
            with uow_factory() as uow:
                assert uow.orders.get(step.id) == current
        assert current.state is OrderState.REFUNDED and current.version == len(path)

    def test_a_taken_id_and_unknown_orders_are_refused(self, uow_factory: UowFactory) -> None:
        customer = new_therapist(uow_factory)
        order = placed(customer, None)
        add(uow_factory, order)
        with uow_factory() as uow:
            with pytest.raises(Conflict) as caught:
                uow.orders.add(paid(order))
            assert caught.value.code == "order.duplicate"
            missing = OrderId(new_id("order"))
            with pytest.raises(NotFound):
                uow.orders.get(missing)
            with pytest.raises(NotFound):
                uow.orders.save(attrs.evolve(stored(order), id=missing))
            uow.orders.add(placed(customer, None))  # the unit is still usable
            uow.commit()
        with uow_factory() as uow:
            assert uow.orders.get(order.id) == stored(order)

    def test_a_stale_save_is_refused_and_changes_nothing(self, uow_factory: UowFactory) -> None:
        customer, therapist = new_therapist(uow_factory), new_therapist(uow_factory)
        (order,) = add(uow_factory, paid(placed(customer, therapist)))
        with uow_factory() as uow:
            first = uow.orders.save(order.accept(Who.therapist(therapist), minutes(5)))
            uow.commit()
        with uow_factory() as uow:
            with pytest.raises(Conflict) as caught:
                uow.orders.save(order.cancel(Who.customer(customer), minutes(6), POLICY))
            assert caught.value.code == "conflict.stale"
            uow.commit()
        with uow_factory() as uow:
            assert uow.orders.get(order.id) == first

    def test_lists_are_newest_first_filtered_and_paged(self, uow_factory: UowFactory) -> None:
        customer, therapist, other = (new_therapist(uow_factory) for _ in range(3))
        a = placed(customer, therapist, at=minutes(1))
        b = paid(placed(customer, therapist, at=minutes(2)))
        c = accepted(placed(customer, other, at=minutes(3)), other)
        d = placed(other, therapist, at=minutes(4))
        add(uow_factory, a, b, c, d)
        s = OrderState
        with uow_factory() as uow:
            orders = uow.orders
            assert ids(orders.list_for_customer(customer)) == [c.id, b.id, a.id]
            assert ids(orders.list_for_customer(customer, offset=1, limit=1)) == [b.id]
            assert ids(orders.list_for_customer(customer, [s.PENDING_PAYMENT, s.ACCEPTED])) == [c.id, a.id]
            assert orders.list_for_customer(customer, []) == []
            assert ids(orders.list_for_therapist(therapist)) == [d.id, b.id, a.id]
            assert ids(orders.list_for_therapist(therapist, [s.AWAITING_ACCEPTANCE])) == [b.id]
            assert ids(orders.list_for_therapist(other)) == [c.id]
            assert ids(orders.list_by_state([s.PENDING_PAYMENT])) == [d.id, a.id]
            assert ids(orders.list_by_state([s.PENDING_PAYMENT, s.ACCEPTED], offset=1, limit=2)) == [c.id, a.id]
            assert orders.list_by_state([]) == []
            assert orders.list_for_customer(customer)[0] == stored(c)

    def test_due_finds_orders_by_when_they_entered_their_state(self, uow_factory: UowFactory) -> None:
        customer, therapist = new_therapist(uow_factory), new_therapist(uow_factory)
        early, late = placed(customer, therapist, at=minutes(1)), placed(customer, therapist, at=minutes(10))
        departed, after_sos = happy_path(customer, therapist)[3], happy_path(customer, therapist)[4]
        finished = happy_path(customer, therapist)[7]
        add(uow_factory, late, early, departed, after_sos, finished)
        s = OrderState
        with uow_factory() as uow:
            orders = uow.orders
            assert ids(orders.due(s.PENDING_PAYMENT, minutes(11))) == [early.id, late.id]
            assert ids(orders.due(s.PENDING_PAYMENT, minutes(10))) == [early.id]
            assert ids(orders.due(s.PENDING_PAYMENT, minutes(11), limit=1)) == [early.id]
            assert orders.due(s.PENDING_PAYMENT, T0) == []
            assert ids(orders.due(s.DEPARTED, minutes(-29, START))) == sorted([departed.id, after_sos.id])  # an SOS
            assert orders.due(s.DEPARTED, minutes(-30, START)) == []
            assert ids(orders.due(s.FINISHED, minutes(61, START))) == [finished.id]
            assert orders.due(s.FINISHED, minutes(60, START)) == []

    def test_concurrent_grabs_of_one_version_have_exactly_one_winner(self, uow_factory: UowFactory) -> None:
        customer = new_therapist(uow_factory)
        grabbers = [new_therapist(uow_factory) for _ in range(4)]
        (order,) = add(uow_factory, paid(placed(customer, None)))
        barrier = threading.Barrier(len(grabbers))

        def grab(therapist: AccountId) -> Order | MassageError:
            barrier.wait()
            try:
                with uow_factory() as uow:
                    saved = uow.orders.save(order.accept(Who.therapist(therapist), minutes(5)))
                    uow.commit()
                return saved
            except MassageError as exc:
                return exc

        with ThreadPoolExecutor(len(grabbers)) as pool:
            outcomes = list(pool.map(grab, grabbers))
        winners = [o for o in outcomes if isinstance(o, Order)]
        losers = [o for o in outcomes if not isinstance(o, Order)]
        assert len(winners) == 1 and all(isinstance(e, Conflict) and e.code == "conflict.stale" for e in losers)
        with uow_factory() as uow:
            assert uow.orders.get(order.id) == winners[0]
            assert winners[0].therapist_id in grabbers and len(winners[0].timeline) == 3
