"""platform.jobs.run_due on SQLite and PostgreSQL (decision 0021): two runs at once expire each unpaid order
once, release its hold and restore its coupon; an offer that timed out is refunded once."""

from __future__ import annotations

import datetime as dt
import threading

import pendulum

from massage_core.adapters.memory.clock import FixedClock
from massage_core.adapters.memory.payments import SandboxPaymentGateway
from massage_core.bootstrap import Platform
from massage_core.domain.access import Actor, Role
from massage_core.domain.coupons import CouponId
from massage_core.domain.ids import AccountId
from massage_core.domain.order_states import OrderId, OrderState
from massage_core.domain.ledger import Book, LedgerAccount
from massage_core.services.jobs import DueReport, RuleCount, settled_key
from search_support import shop, therapist
from storage_support import make_account

SYSTEM = Actor.system()
LAT, LNG = 31.2304, 121.4737
START = pendulum.datetime(2026, 1, 6, 10, tz="Asia/Shanghai")
WEEK = {day: [("08:00", "20:00")] for day in range(1, 8)}




def gateway(platform: Platform) -> SandboxPaymentGateway:
    found = platform.deps.payment_gateway
    assert isinstance(found, SandboxPaymentGateway)
    return found


def setup(platform: Platform, customers: int) -> tuple[str, str, list[Actor]]:
    """(service, a public therapist with an online week, ``customers`` customers)."""
    catalogue = shop(platform.deps.uow)
    therapist_id = therapist(platform.deps.uow, LAT, LNG, services=(catalogue.tuina,))
    platform.schedules.set_weekly_hours(SYSTEM, therapist_id, WEEK)
    platform.schedules.set_online(SYSTEM, therapist_id, True)
    accounts = [make_account() for _ in range(customers)]
    with platform.deps.uow() as uow:
        for account in accounts:
            uow.accounts.add(account)
        uow.commit()
    return catalogue.tuina, therapist_id, [Actor(a.id, roles=frozenset({Role.CUSTOMER})) for a in accounts]


def at_once(platform: Platform, runs: int = 2) -> list[DueReport]:
    reports: list[DueReport] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(runs)

    def one() -> None:
        try:
            barrier.wait()
            reports.append(platform.jobs.run_due(SYSTEM))
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=one) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return reports


def test_two_runs_at_once_expire_each_unpaid_order_once(platform: Platform, clock: FixedClock) -> None:
    service, therapist_id, customers = setup(platform, 3)
    now = clock.now()
    coupon = platform.coupons.create(SYSTEM, "Welcome", amount_off=1_000, code="WELCOME",
                                     valid_from=now - dt.timedelta(days=1), valid_until=now + dt.timedelta(days=9))
    orders = [platform.orders.book(customer, therapist=therapist_id, service=service, start=START.add(hours=2 * n),
                                   lat=LAT, lng=LNG).id for n, customer in enumerate(customers)]
    with platform.deps.uow() as uow:
        for order, customer in zip(orders, customers):
            assert customer.account_id is not None
            uow.coupons.redeem(CouponId(coupon.id), AccountId(customer.account_id), OrderId(order), now)
        uow.commit()
    clock.advance(dt.timedelta(minutes=16))
    reports = at_once(platform)
    assert sum(r.expire_payment.fired for r in reports) == len(orders)
    for order in orders:
        view = platform.orders.get(SYSTEM, order)
        assert view.state is OrderState.PAYMENT_EXPIRED
        assert [s.action.value for s in view.timeline].count("expire_payment") == 1
    with platform.deps.uow() as uow:
        assert all(uow.coupons.redemption_of(OrderId(order)) is None for order in orders)
    assert platform.schedules.reservations(SYSTEM, therapist_id, start=START.subtract(days=1)) == []
    assert platform.jobs.run_due(SYSTEM).fired == 0


def test_two_runs_at_once_refund_a_timed_out_offer_once(platform: Platform, clock: FixedClock) -> None:
    service, therapist_id, [customer] = setup(platform, 1)
    order = platform.orders.book(customer, therapist=therapist_id, service=service, start=START, lat=LAT,
                                 lng=LNG).id
    headers, body = gateway(platform).simulate_payment(order)
    paid = platform.orders.payment_callback(headers, body)
    clock.advance(dt.timedelta(minutes=11))
    reports = at_once(platform)
    assert sum(r.acceptance_timeout.fired for r in reports) == 1
    view = platform.orders.get(SYSTEM, order)
    assert (view.state, view.refunded) == (OrderState.REFUNDED, paid.paid)
    assert [s.action.value for s in view.timeline].count("refund") == 1
    assert gateway(platform).query(order).refunded == paid.paid


def test_a_completed_order_settles_once_after_n_days_even_with_two_runs_at_once(platform: Platform,
                                                                                clock: FixedClock) -> None:
    service, therapist_id, [customer] = setup(platform, 1)
    therapist_actor = Actor(therapist_id, roles=frozenset({Role.THERAPIST}))
    order = platform.orders.book(customer, therapist=therapist_id, service=service, start=START, lat=LAT,
                                 lng=LNG).id
    headers, body = gateway(platform).simulate_payment(order)
    platform.orders.payment_callback(headers, body)
    for step in (platform.orders.accept, platform.orders.depart, platform.orders.arrive, platform.orders.start,
                 platform.orders.finish):
        step(therapist_actor, order)
    platform.orders.complete(customer, order)
    pending = LedgerAccount.of(Book.THERAPIST_PENDING, therapist_id)
    payable = LedgerAccount.of(Book.THERAPIST_PAYABLE, therapist_id)
    with platform.deps.uow() as uow:
        owed = uow.ledger.balance(pending).fen + uow.ledger.balance(LedgerAccount.of(Book.TIPS_PAYABLE, therapist_id)).fen
    assert owed > 0
    clock.advance(dt.timedelta(days=7))
    assert platform.jobs.run_due(SYSTEM).settle == RuleCount()
    clock.advance(dt.timedelta(seconds=1))
    reports = at_once(platform)
    assert sum(r.settle.fired for r in reports) == 1
    with platform.deps.uow() as uow:
        assert (uow.ledger.balance(pending).fen, uow.ledger.balance(payable).fen) == (0, owed)
        assert uow.ledger.posted_keys([settled_key(order)]) == {settled_key(order)}
    assert platform.jobs.run_due(SYSTEM).settle == RuleCount()
    assert platform.ledger.verify(SYSTEM).ok
    [row] = platform.earnings.orders(SYSTEM, therapist_id)
    assert (row.order_id, row.settled, row.income.fen + row.tip.fen) == (order, True, owed)
    summary = platform.earnings.summary(SYSTEM, therapist_id)
    assert (summary.pending.fen, summary.available.fen) == (0, owed)
    [day] = platform.earnings.totals(SYSTEM, therapist_id, since=clock.now().subtract(days=30))
    assert (day.income.fen + day.tips.fen, day.commission.fen > 0) == (owed, True)


def test_a_late_cancellations_compensation_settles_once_after_n_days(platform: Platform, clock: FixedClock) -> None:
    service, therapist_id, [customer] = setup(platform, 1)
    therapist_actor = Actor(therapist_id, roles=frozenset({Role.THERAPIST}))
    order = platform.orders.book(customer, therapist=therapist_id, service=service, start=START, lat=LAT,
                                 lng=LNG).id
    headers, body = gateway(platform).simulate_payment(order)
    platform.orders.payment_callback(headers, body)
    platform.orders.accept(therapist_actor, order)
    clock.set(START.subtract(minutes=30))  # below every notice window: nothing back, 80 % to the therapist
    view = platform.orders.cancel(customer, order)
    owed = view.paid.fen * 8_000 // 10_000
    assert view.settlement is not None and view.settlement.therapist_compensation.fen == owed
    clock.advance(dt.timedelta(days=7))
    assert platform.jobs.run_due(SYSTEM).settle == RuleCount()
    clock.advance(dt.timedelta(seconds=1))
    assert sum(r.settle.fired for r in at_once(platform)) == 1
    summary = platform.earnings.summary(SYSTEM, therapist_id)
    assert (summary.pending.fen, summary.available.fen) == (0, owed)
    assert platform.jobs.run_due(SYSTEM).settle == RuleCount()
    assert platform.ledger.verify(SYSTEM).ok
    [row] = platform.earnings.orders(SYSTEM, therapist_id)
    assert (row.order_id, row.kind, row.income.fen, row.settled) == (order, "cancelled", owed, True)
