"""Dispatch on SQLite and PostgreSQL: auto-matching and re-dispatch keep the reservations in line, concurrent
grabs of one broadcast order have exactly one winner, the dispatcher's reads (open offers, therapist load)
agree with the memory fake, and the visit address is stored encrypted."""

from __future__ import annotations

import datetime as dt
import threading

import pendulum
from sqlalchemy import create_engine, text

from massage_core.adapters.memory.clock import FixedClock
from massage_core.adapters.memory.payments import SandboxPaymentGateway
from massage_core.bootstrap import Platform
from massage_core.domain.access import Actor, Role
from massage_core.domain.dispatch import TherapistLoad
from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.order_states import OrderState
from search_support import shop, therapist
from storage_support import T0, Backend, make_account

SYSTEM = Actor.system()
LAT, LNG = 31.2304, 121.4737
START = pendulum.datetime(2026, 1, 6, 10, tz="Asia/Shanghai")
WEEK = {day: [("08:00", "20:00")] for day in range(1, 8)}
ADDRESS = "上海市静安区愚园路88弄 7号 602室"



def pay(platform: Platform, order: str) -> None:
    gateway = platform.deps.payment_gateway
    assert isinstance(gateway, SandboxPaymentGateway)
    platform.orders.payment_callback(*gateway.simulate_payment(order))


def team(platform: Platform, count: int) -> tuple[str, Actor, list[Actor]]:
    """(the service, a customer, ``count`` public online therapists 1 km apart going east)."""
    catalogue = shop(platform.deps.uow)
    serving = []
    for i in range(count):
        tid = therapist(platform.deps.uow, LAT, LNG + 0.01 * (i + 1), services=(catalogue.tuina,))
        platform.schedules.set_weekly_hours(SYSTEM, tid, WEEK)
        platform.schedules.set_online(SYSTEM, tid, True)
        serving.append(Actor(tid, roles=frozenset({Role.THERAPIST})))
    account = make_account()
    with platform.deps.uow() as uow:
        uow.accounts.add(account)
        uow.commit()
    return catalogue.tuina, Actor(account.id, roles=frozenset({Role.CUSTOMER})), serving


def live_holders(platform: Platform, order: str, serving: list[Actor]) -> list[str]:
    found = []
    for actor in serving:
        assert actor.account_id is not None
        views = platform.schedules.reservations(SYSTEM, actor.account_id, start=START.subtract(days=1))
        found += [actor.account_id for v in views if v.reference == order]
    return found


def test_auto_match_and_redispatch_on_sql(platform: Platform) -> None:
    service, customer, serving = team(platform, 2)
    order = platform.orders.book(customer, service=service, start=START, lat=LAT, lng=LNG, address=ADDRESS)
    assert order.therapist_id == serving[0].account_id
    pay(platform, order.id)
    moved = platform.orders.reject(serving[0], order.id, "a flat tyre")
    assert moved.therapist_id == serving[1].account_id and moved.state is OrderState.AWAITING_ACCEPTANCE
    assert live_holders(platform, order.id, serving) == [serving[1].account_id]
    clock = platform.deps.clock
    assert isinstance(clock, FixedClock)
    clock.advance(dt.timedelta(minutes=11))
    assert platform.jobs.run_due(SYSTEM).acceptance_timeout.fired == 1
    ended = platform.orders.get(customer, order.id)
    assert ended.state is OrderState.REFUNDED and live_holders(platform, order.id, serving) == []


def test_concurrent_grabs_have_one_winner_on_sql(platform: Platform) -> None:
    service, customer, serving = team(platform, 6)
    order = platform.orders.book(customer, service=service, start=START, lat=LAT, lng=LNG, address=ADDRESS,
                                 dispatch="broadcast")
    pay(platform, order.id)
    assert all(platform.orders.offers(t) for t in serving)
    barrier = threading.Barrier(len(serving))
    outcomes: dict[str, str] = {}

    def grab(actor: Actor) -> None:
        barrier.wait()
        try:
            platform.orders.grab(actor, order.id)
            outcomes[str(actor.account_id)] = "won"
        except (Conflict, NotFound) as lost:
            outcomes[str(actor.account_id)] = lost.code

    threads = [threading.Thread(target=grab, args=(t,)) for t in serving]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [who for who, outcome in outcomes.items() if outcome == "won"]
    assert len(winners) == 1, outcomes
    assert set(outcomes.values()) <= {"won", "order.taken", "not_found"}
    final = platform.orders.get(customer, order.id)
    assert (final.state, final.therapist_id) == (OrderState.ACCEPTED, winners[0])
    assert live_holders(platform, order.id, serving) == winners
    assert [s.action.value for s in final.timeline].count("accept") == 1


def test_dispatch_reads_on_sql(platform: Platform, sql_backend: Backend) -> None:
    service, customer, serving = team(platform, 2)
    ids = [str(t.account_id) for t in serving]
    broadcast = platform.orders.book(customer, service=service, start=START, lat=LAT, lng=LNG, address=ADDRESS,
                                     dispatch="broadcast")
    auto = platform.orders.book(customer, service=service, start=START.add(hours=3), lat=LAT, lng=LNG)
    pay(platform, broadcast.id)
    pay(platform, auto.id)
    platform.orders.reject(serving[0], auto.id, "not today")
    platform.orders.grab(serving[0], broadcast.id)
    with platform.deps.uow() as uow:
        assert uow.orders.open_offers() == []
        load = uow.orders.therapist_load(ids + [str(customer.account_id)], T0)
    assert load[ids[0]] == TherapistLoad(live=1, accepted=1, declined=1)
    assert load[ids[1]] == TherapistLoad(live=1, accepted=0, declined=0)
    assert load[str(customer.account_id)] == TherapistLoad()
    assert sql_backend.url is not None
    engine = create_engine(sql_backend.url)
    with engine.connect() as conn:
        stored = [row[0] for row in conn.execute(text("SELECT address_enc FROM orders"))]
    engine.dispose()
    assert stored and all(s is None or "愚园路" not in s for s in stored)
    assert platform.orders.get(customer, broadcast.id).id == broadcast.id


def test_sos_alerts_on_sql(platform: Platform) -> None:
    service, customer, serving = team(platform, 1)
    order = platform.orders.book(customer, service=service, start=START, lat=LAT, lng=LNG).id
    pay(platform, order)
    for step in (platform.orders.accept, platform.orders.depart):
        step(serving[0], order)
    platform.orders.sos(serving[0], order, "a stranger is following me")
    [alert] = platform.orders.sos_alerts(SYSTEM, open_only=True)
    assert (alert.order_id, alert.note, alert.open) == (order, "a stranger is following me", True)
