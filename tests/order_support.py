"""Builders of orders in every state, made through the real domain (contract and integration tests)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from massage_core.domain.cancellation import CancellationPolicy
from massage_core.domain.ids import AccountId, ServiceId
from massage_core.domain.intervals import Interval
from massage_core.domain.money import Money
from massage_core.domain.order_states import OrderId, OrderState, Who
from massage_core.domain.orders import Order
from massage_core.domain.time import Instant
from storage_support import T0, new_id

POLICY = CancellationPolicy()
START = T0 + timedelta(days=2)
"""The scheduled start of every built order."""
ADMIN = AccountId(new_id("account"))
"""An admin acting on orders (actors are labels, not references)."""


def minutes(n: float, base: Instant = T0) -> Instant:
    return base + timedelta(minutes=n)


def placed(customer: AccountId, therapist: AccountId | None, *, at: Instant = T0, fen: int = 19_801) -> Order:
    """A new pending_payment order (events kept)."""
    return Order.place(OrderId(new_id("order")), customer, ServiceId(new_id("service")),
                       Interval(START, minutes(60, START)), Money(fen), at, therapist)


def paid(order: Order) -> Order:
    return order.pay(Who.system(), order.total, minutes(1, order.placed_at), reference="wx-4200001234")


def accepted(order: Order, therapist: AccountId) -> Order:
    return paid(order).accept(Who.therapist(therapist), minutes(2, order.placed_at))


def happy_path(customer: AccountId, therapist: AccountId, *, at: Instant = T0) -> list[Order]:
    """Every step of one order from placing to a partial refund after a dispute."""
    t = Who.therapist(therapist)
    steps: list[Callable[[Order], Order]] = [
        paid,
        lambda o: o.accept(t, minutes(2, at)),
        lambda o: o.depart(t, minutes(-30, START)),
        lambda o: o.sos(t, minutes(-20, START), "a dog in the lift"),
        lambda o: o.arrive(t, minutes(-5, START)),
        lambda o: o.start(t, START),
        lambda o: o.finish(t, minutes(60, START)),
        lambda o: o.complete(Who.customer(customer), minutes(70, START)),
        lambda o: o.dispute(Who.customer(customer), minutes(80, START), "the massage was far too short"),
        lambda o: o.refund(Who.admin(ADMIN), minutes(90, START), Money(5_001)),
    ]
    orders = [placed(customer, therapist, at=at)]
    for step in steps:
        orders.append(step(orders[-1]))
    return orders


def in_every_state(customer: AccountId, therapist: AccountId, other: AccountId) -> dict[OrderState, Order]:
    """One order per state (each its own id), with settlements, penalties, rejections and notes."""
    s = OrderState
    found: dict[OrderState, Order] = {}
    for n in (0, 1, 2, 4, 5, 6, 7, 8, 9):  # each from its own path: distinct ids (4: departed after an SOS)
        order = happy_path(customer, therapist)[n]
        found[order.state] = order
    found[s.PAYMENT_EXPIRED] = placed(customer, therapist).expire_payment(Who.system(), minutes(20))
    def rejected() -> Order:
        return paid(placed(customer, therapist)).reject(Who.therapist(therapist), minutes(3), "too far tonight")

    found[s.REDISPATCHING] = rejected()
    found[s.AWAITING_ACCEPTANCE] = rejected().redispatch(Who.system(), minutes(4), None)
    late = accepted(placed(customer, other), other)
    found[s.CANCELLED] = late.cancel(Who.customer(customer), minutes(-120, START), POLICY, "plans changed")
    penalised = accepted(placed(customer, therapist), therapist).cancel(Who.therapist(therapist), minutes(5), POLICY)
    found[s.REFUNDED] = penalised.refund(Who.system(), minutes(6))
    arrived = accepted(placed(customer, therapist), therapist).depart(Who.therapist(therapist), minutes(-30, START))
    arrived = arrived.arrive(Who.therapist(therapist), minutes(-5, START))
    found[s.NO_SHOW] = arrived.mark_no_show(Who.therapist(therapist), minutes(20, START), POLICY)
    assert set(found) == set(OrderState)
    return found
