"""``platform.orders`` and the late-arrival rule on the memory platform (decision 0025): the therapist's ``arrive``
beyond the grace records the lateness, a ``therapist_late`` penalty and a ``TherapistArrivedLate`` event; the
customer may then cancel, until the service starts, with a full refund paid back at once and nothing for the
therapist; the views and the penalty records show it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pytest

from conftest import Kit, Person
from massage_core.domain.cancellation import CancellationCause, CancellationPolicy
from massage_core.domain.errors import PermissionDenied
from massage_core.domain.money import Money
from massage_core.domain.order_events import OrderTransitioned, TherapistArrivedLate
from massage_core.domain.order_states import OrderState
from massage_core.services.orders import OrdersService
from order_kit import SENIOR_TUINA, START, SYSTEM, advance, book, catalogue, gateway, make_public, pay
from search_support import Shop

SECOND = dt.timedelta(seconds=1)
GRACE = dt.timedelta(minutes=15)


@pytest.fixture
def shop(kit: Kit) -> Shop:
    return catalogue(kit.platform)


@pytest.fixture
def therapist(kit: Kit, shop: Shop) -> Person:
    person = kit.therapist()
    make_public(kit.platform, person.account_id, shop)
    return person


@pytest.fixture
def customer(kit: Kit) -> Person:
    return kit.customer_by_phone()


def on_the_way(kit: Kit, shop: Shop, therapist: Person, customer: Person) -> str:
    order = book(kit.platform, customer.actor, therapist.account_id, shop.tuina).id
    pay(kit.platform, order)
    advance(kit.platform, order, therapist.actor, customer.actor, "departed")
    return order


def to(kit: Kit, moment: Any) -> None:
    kit.clock.advance(moment - kit.clock.now())


def recording_orders(kit: Kit, recorded: list[Any]) -> OrdersService:
    """``platform.orders`` over units of work that also hand their events to ``recorded``."""
    original = kit.platform.deps.uow

    def recording() -> Any:
        uow = original()
        inner = uow.record

        def record(events: Any) -> None:
            recorded.extend(events)
            inner(events)

        uow.record = record
        return uow

    return OrdersService(attrs.evolve(kit.platform.deps, uow=recording))


def test_arriving_exactly_at_the_grace_is_on_time(kit: Kit, shop: Shop, therapist: Person, customer: Person) -> None:
    order = on_the_way(kit, shop, therapist, customer)
    recorded: list[Any] = []
    to(kit, START + GRACE)
    view = recording_orders(kit, recorded).arrive(therapist.actor, order)
    assert view.state is OrderState.ARRIVED and view.late_minutes is None
    assert [type(e) for e in recorded] == [OrderTransitioned]
    assert kit.platform.orders.penalties(therapist.actor).penalties == ()


def test_arriving_a_second_late_records_the_lateness_a_penalty_and_an_event(
        kit: Kit, shop: Shop, therapist: Person, customer: Person) -> None:
    order = on_the_way(kit, shop, therapist, customer)
    recorded: list[Any] = []
    to(kit, START + GRACE + SECOND)
    view = recording_orders(kit, recorded).arrive(therapist.actor, order)
    assert (view.state, view.late_minutes, view.timeline[-1].note) == (OrderState.ARRIVED, 16, "16 min late")
    [event] = recorded
    assert isinstance(event, TherapistArrivedLate) and event.late.minutes == 16
    assert event.late.penalty.cause is CancellationCause.THERAPIST_LATE and event.order_id == order
    for viewer in (customer.actor, therapist.actor, kit.support().actor):
        assert kit.platform.orders.get(viewer, order).late_minutes == 16
    [record] = kit.platform.orders.penalties(therapist.actor).penalties
    assert (record.order_id, record.therapist_id, record.cause, record.at) == (
        order, therapist.account_id, CancellationCause.THERAPIST_LATE, START + GRACE + SECOND)
    assert kit.platform.orders.penalties(kit.support().actor, therapist.account_id).penalties == (record,)


def test_the_customer_cancels_after_a_late_arrival_full_refund_at_once_nothing_to_the_therapist(
        kit: Kit, shop: Shop, therapist: Person, customer: Person) -> None:
    p = kit.platform
    order = on_the_way(kit, shop, therapist, customer)
    to(kit, START.add(minutes=25))
    p.orders.arrive(therapist.actor, order)
    kit.clock.advance(dt.timedelta(minutes=3))
    view = p.orders.cancel(customer.actor, order, "you were 25 minutes late")
    assert (view.state, view.refunded, view.retained, view.late_minutes) == (
        OrderState.REFUNDED, Money(SENIOR_TUINA), Money(0), 25)
    outcome = view.settlement
    assert outcome is not None and outcome.cause is CancellationCause.THERAPIST_LATE
    assert (outcome.refund, outcome.therapist_compensation, outcome.platform_retained, outcome.penalty) == (
        Money(SENIOR_TUINA), Money(0), Money(0), None)
    assert gateway(p).query(order).refunded == Money(SENIOR_TUINA)
    assert [r.cause for r in p.orders.penalties(therapist.actor).penalties] == [CancellationCause.THERAPIST_LATE]
    assert [(e.kind, e.amount) for e in p.orders.payments(customer.actor, order).entries] == [
        ("payment", Money(SENIOR_TUINA)), ("refund", Money(SENIOR_TUINA))]


def test_the_customer_cancels_while_the_therapist_is_late_on_the_way(
        kit: Kit, shop: Shop, therapist: Person, customer: Person) -> None:
    p = kit.platform
    order = on_the_way(kit, shop, therapist, customer)
    to(kit, START + GRACE + SECOND)
    view = p.orders.cancel(customer.actor, order)
    assert (view.state, view.refunded, view.late_minutes) == (OrderState.REFUNDED, Money(SENIOR_TUINA), None)
    assert view.settlement is not None and view.settlement.cause is CancellationCause.THERAPIST_LATE
    [record] = p.orders.penalties(therapist.actor).penalties
    assert (record.cause, record.at) == (CancellationCause.THERAPIST_LATE, START + GRACE + SECOND)


def test_cancelling_within_the_grace_after_the_start_still_costs_the_customer(
        kit: Kit, shop: Shop, therapist: Person, customer: Person) -> None:
    order = on_the_way(kit, shop, therapist, customer)
    to(kit, START + GRACE)
    view = kit.platform.orders.cancel(customer.actor, order)
    assert (view.state, view.refunded) == (OrderState.CANCELLED, Money(0))
    assert view.settlement is not None and view.settlement.cause is CancellationCause.CUSTOMER_NOTICE
    assert kit.platform.orders.penalties(therapist.actor).penalties == ()


def test_a_late_therapist_who_walks_away_leaves_two_records(
        kit: Kit, shop: Shop, therapist: Person, customer: Person) -> None:
    p = kit.platform
    order = on_the_way(kit, shop, therapist, customer)
    to(kit, START.add(minutes=20))
    p.orders.arrive(therapist.actor, order)
    kit.clock.advance(dt.timedelta(minutes=1))
    view = p.orders.cancel(therapist.actor, order, "wrong address")
    assert view.state is OrderState.REFUNDED and view.late_minutes == 20
    assert [r.cause for r in p.orders.penalties(therapist.actor).penalties] == [
        CancellationCause.THERAPIST_CANCELLED, CancellationCause.THERAPIST_LATE]


def test_the_absent_customer_rule_gives_a_late_therapist_nothing(
        kit: Kit, shop: Shop, therapist: Person, customer: Person) -> None:
    p = kit.platform
    order = on_the_way(kit, shop, therapist, customer)
    to(kit, START.add(minutes=16))
    p.orders.arrive(therapist.actor, order)
    to(kit, START.add(minutes=36))
    view = p.orders.mark_no_show(therapist.actor, order)
    assert (view.state, view.refunded) == (OrderState.REFUNDED, Money(SENIOR_TUINA))
    assert view.settlement is not None and view.settlement.cause is CancellationCause.THERAPIST_LATE
    assert view.settlement.therapist_compensation == Money(0)


def test_once_the_service_started_the_customer_cannot_cancel(
        kit: Kit, shop: Shop, therapist: Person, customer: Person) -> None:
    p = kit.platform
    order = on_the_way(kit, shop, therapist, customer)
    to(kit, START.add(minutes=30))
    p.orders.arrive(therapist.actor, order)
    p.orders.start(therapist.actor, order)
    before = dict(kit.tables.orders)
    with pytest.raises(PermissionDenied) as err:
        p.orders.cancel(customer.actor, order)
    assert err.value.code == "order.party" and dict(kit.tables.orders) == before
    assert p.orders.finish(therapist.actor, order).late_minutes == 30


def test_the_configured_grace_applies(kit: Kit, shop: Shop, therapist: Person, customer: Person) -> None:
    deps = kit.platform.deps
    lenient = attrs.evolve(deps.policies, cancellation=CancellationPolicy(late_arrival_grace=dt.timedelta(minutes=25)))
    orders = OrdersService(attrs.evolve(deps, policies=lenient))
    order = on_the_way(kit, shop, therapist, customer)
    to(kit, START.add(minutes=25))
    assert orders.arrive(therapist.actor, order).late_minutes is None
    assert kit.platform.orders.get(SYSTEM, order).late_minutes is None
