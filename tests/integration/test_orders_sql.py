"""platform.orders on SQLite and PostgreSQL: the whole lifecycle, a replayed callback, a cancellation with its
refund and released reservation, and a refused booking that stores nothing."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pendulum
import pytest

from massage_core.adapters.memory.payments import SandboxPaymentGateway
from massage_core.bootstrap import Platform
from massage_core.domain.access import Actor, Role
from massage_core.domain.errors import Conflict
from massage_core.domain.money import Money
from massage_core.domain.order_states import OrderState
from search_support import PRICES, shop, therapist
from storage_support import make_account

SYSTEM = Actor.system()
LAT, LNG = 31.2304, 121.4737
START = pendulum.datetime(2026, 1, 6, 10, tz="Asia/Shanghai")
WEEK = {day: [("08:00", "20:00")] for day in range(1, 8)}



def gateway(platform: Platform) -> SandboxPaymentGateway:
    found = platform.deps.payment_gateway
    assert isinstance(found, SandboxPaymentGateway)
    return found


def people(platform: Platform) -> tuple[str, Actor, Actor, Actor]:
    """(service, a customer, a public therapist with an online week, another customer)."""
    catalogue = shop(platform.deps.uow)
    therapist_id = therapist(platform.deps.uow, LAT, LNG, services=(catalogue.tuina,))
    platform.schedules.set_weekly_hours(SYSTEM, therapist_id, WEEK)
    platform.schedules.set_online(SYSTEM, therapist_id, True)
    customers = [make_account(), make_account()]
    with platform.deps.uow() as uow:
        for account in customers:
            uow.accounts.add(account)
        uow.commit()
    one, two = (Actor(a.id, roles=frozenset({Role.CUSTOMER})) for a in customers)
    return catalogue.tuina, one, Actor(therapist_id, roles=frozenset({Role.THERAPIST})), two


def test_the_lifecycle_on_sql(platform: Platform) -> None:
    service, customer, serving, _ = people(platform)
    assert serving.account_id is not None
    orders = platform.orders
    booked = orders.book(customer, therapist=serving.account_id, service=service, start=START, lat=LAT, lng=LNG)
    headers, body = gateway(platform).simulate_payment(booked.id)
    paid = orders.payment_callback(headers, body)
    assert orders.payment_callback(headers, body) == paid  # a replay changes nothing
    assert paid.state is OrderState.AWAITING_ACCEPTANCE
    [firm] = platform.schedules.reservations(SYSTEM, serving.account_id, start=START.subtract(days=1))
    assert (firm.reference, firm.status) == (booked.id, "confirmed")
    for step in (orders.accept, orders.depart, orders.arrive, orders.start, orders.finish):
        step(serving, booked.id)
    done = orders.complete(customer, booked.id)
    assert done == orders.get(customer, booked.id)
    assert [s.action.value for s in done.timeline] == ["place", "pay", "accept", "depart", "arrive", "start",
                                                      "finish", "complete"]
    assert orders.spending(customer).net == Money(PRICES["senior"])
    assert [o.id for o in orders.list_mine(customer, "completed").orders] == [booked.id]


def test_a_cancellation_refunds_and_frees_the_slot_on_sql(platform: Platform) -> None:
    service, customer, serving, other = people(platform)
    assert serving.account_id is not None
    args = {"therapist": serving.account_id, "service": service, "start": START, "lat": LAT, "lng": LNG}
    booked = platform.orders.book(customer, **args)
    headers, body = gateway(platform).simulate_payment(booked.id)
    platform.orders.payment_callback(headers, body)
    with pytest.raises(Conflict) as caught:
        platform.orders.book(other, **{**args, "start": START + dt.timedelta(minutes=30)})
    assert caught.value.code == "reservation.overlap"
    assert platform.orders.list_mine(other).orders == ()
    view = platform.orders.cancel(customer, booked.id, "plans changed")
    assert (view.state, view.refunded) == (OrderState.REFUNDED, Money(PRICES["senior"]))
    assert gateway(platform).query(booked.id).refunded == Money(PRICES["senior"])
    assert platform.schedules.reservations(SYSTEM, serving.account_id, start=START.subtract(days=1)) == []
    assert platform.orders.book(other, **args).state is OrderState.PENDING_PAYMENT


def test_concurrent_duplicate_callbacks_pay_the_order_once(platform: Platform) -> None:
    service, customer, serving, _ = people(platform)
    assert serving.account_id is not None
    booked = platform.orders.book(customer, therapist=serving.account_id, service=service, start=START, lat=LAT,
                                  lng=LNG)
    headers, body = gateway(platform).simulate_payment(booked.id)
    with ThreadPoolExecutor(max_workers=4) as pool:
        views = list(pool.map(lambda _: platform.orders.payment_callback(headers, body), range(4)))
    assert {v.state for v in views} == {OrderState.AWAITING_ACCEPTANCE}
    final = platform.orders.get(customer, booked.id)
    assert [s.action.value for s in final.timeline].count("pay") == 1 and final.paid == booked.total
    [firm] = platform.schedules.reservations(SYSTEM, serving.account_id, start=START.subtract(days=1))
    assert firm.status == "confirmed"
