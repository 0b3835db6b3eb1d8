"""Concurrent cancellations, no-shows and timers on SQLite and PostgreSQL (issue 4, acceptance 3; decisions 19,
21, 23).

Two callers start together behind a barrier.  Whatever the interleaving, after each race: exactly one of the
competing steps is stored, the other caller failed with a stable refusal (or the timer skipped), the gateway
knows exactly the refund numbers the order's timeline recorded and moved exactly the refunded amount, the
order's money balances (paid = refunded + retained, and the gateway agrees), and the order's reservation was
saved exactly as often as one winner saves it (released once, or left to lapse).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pendulum

from massage_core.adapters.memory.clock import FixedClock
from massage_core.adapters.memory.payments import SandboxPaymentGateway
from massage_core.bootstrap import Platform
from massage_core.domain.access import Actor, AdminRole, Role
from massage_core.domain.errors import Conflict, InvalidTransition, MassageError, PaymentError
from massage_core.domain.ids import AccountId
from massage_core.domain.money import Money
from massage_core.domain.order_states import OrderState
from massage_core.domain.payments import PaymentStatus
from massage_core.services.jobs import DueReport
from massage_core.services.order_views import OrderView
from search_support import PRICES, shop, therapist
from storage_support import make_account

SYSTEM = Actor.system()
LAT, LNG = 31.2304, 121.4737
START = pendulum.datetime(2026, 1, 6, 10, tz="Asia/Shanghai")
WEEK = {day: [("08:00", "20:00")] for day in range(1, 8)}
PRICE = Money(PRICES["senior"])
#: What a loser of a race may see: the stored order moved on (SQLite serialises, so the loser re-reads it and
#: the machine refuses), the version check (PostgreSQL), or the gateway refusing a second refund of the money.
LOSING = {"invalid_transition", "conflict.stale", "payment.refund_conflict", "payment.over_refund"}




class Cast:
    """The people of one race: a customer, a public therapist (online all week) and a support admin."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        catalogue = shop(platform.deps.uow)
        self.service = catalogue.tuina
        self.therapist_id = therapist(platform.deps.uow, LAT, LNG, services=(catalogue.tuina,))
        platform.schedules.set_weekly_hours(SYSTEM, self.therapist_id, WEEK)
        platform.schedules.set_online(SYSTEM, self.therapist_id, True)
        customer, admin = make_account(), make_account(roles=frozenset({Role.ADMIN}))
        with platform.deps.uow() as uow:
            uow.accounts.add(customer)
            uow.accounts.add(admin)
            uow.commit()
        self.customer = Actor(customer.id, roles=frozenset({Role.CUSTOMER}))
        self.serving = Actor(AccountId(self.therapist_id), roles=frozenset({Role.THERAPIST}))
        self.admin = Actor(admin.id, roles=frozenset({Role.ADMIN}), admin_roles=frozenset({AdminRole.SUPPORT}))

    @property
    def gateway(self) -> SandboxPaymentGateway:
        found = self.platform.deps.payment_gateway
        assert isinstance(found, SandboxPaymentGateway)
        return found

    def book(self) -> str:
        return self.platform.orders.book(self.customer, therapist=self.therapist_id, service=self.service,
                                         start=START, lat=LAT, lng=LNG).id

    def paid(self) -> str:
        order = self.book()
        self.platform.orders.payment_callback(*self.gateway.simulate_payment(order))
        return order

    def reservation_versions(self, order: str) -> list[tuple[int, bool]]:
        """(version, released) of every reservation the order ever made, live or not."""
        with self.platform.deps.uow() as uow:
            found = uow.reservations.between(AccountId(self.therapist_id), START - dt.timedelta(hours=2),
                                             START + dt.timedelta(hours=3))
        return [(r.version, r.released_at is not None) for r in found if r.reference == order]


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run ``calls`` at once; each one's result or the MassageError it raised, in the order given."""
    results: list[Any] = [None] * len(calls)
    unexpected: list[BaseException] = []
    barrier = threading.Barrier(len(calls))

    def run(n: int) -> None:
        try:
            barrier.wait()
            results[n] = calls[n]()
        except MassageError as refused:
            results[n] = refused
        except BaseException as error:  # reported in the test's thread
            unexpected.append(error)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not unexpected, unexpected
    return results


def won(result: Any) -> bool:
    """True for a caller who got its way; a loser must have been refused with one of ``LOSING``."""
    if isinstance(result, MassageError):
        assert isinstance(result, (Conflict, InvalidTransition, PaymentError)) and result.code in LOSING, result
        return False
    return True


def check_money(cast: Cast, order: str) -> OrderView:
    """The order's money and the gateway's agree: every refund number once, paid = refunded + retained."""
    view = cast.platform.orders.get(SYSTEM, order)
    numbers = [f"{order}-r{n}" for n, step in enumerate(view.timeline) if step.action.value == "refund"]
    at_gateway = [number for number, result in cast.gateway.__dict__["_refunds"].items()
                  if result.order_reference == order]
    assert at_gateway == numbers and len(numbers) <= 1
    record = cast.gateway.query(order)
    assert record.refunded == view.refunded and view.paid == view.refunded + view.retained
    assert view.paid == (record.amount if record.status is PaymentStatus.PAID else Money(0))
    assert cast.platform.schedules.reservations(SYSTEM, cast.therapist_id, start=START.subtract(days=1)) == []
    return view


def steps(view: OrderView, *actions: str) -> list[str]:
    return [s.action.value for s in view.timeline if s.action.value in actions]


def test_a_customer_cancel_racing_the_expiry_of_an_unpaid_order(platform: Platform, clock: FixedClock) -> None:
    cast = Cast(platform)
    order = cast.book()
    clock.advance(dt.timedelta(minutes=16))
    cancelled, report = race(lambda: platform.orders.cancel(cast.customer, order, "too slow"),
                             lambda: platform.jobs.run_due(SYSTEM))
    assert isinstance(report, DueReport)
    view = check_money(cast, order)
    assert steps(view, "cancel", "expire_payment") == (["cancel"] if won(cancelled) else ["expire_payment"])
    assert report.expire_payment.fired == (0 if won(cancelled) else 1)
    assert cast.gateway.query(order).status is PaymentStatus.CLOSED
    assert cast.reservation_versions(order) == [(1, False)]  # the hold lapsed: nobody saved it


def test_a_customer_cancel_racing_the_acceptance_timeout(platform: Platform, clock: FixedClock) -> None:
    cast = Cast(platform)
    order = cast.paid()
    clock.advance(dt.timedelta(minutes=11))
    cancelled, report = race(lambda: platform.orders.cancel(cast.customer, order, "changed my mind"),
                             lambda: platform.jobs.run_due(SYSTEM))
    view = check_money(cast, order)
    assert (view.state, view.refunded) == (OrderState.REFUNDED, PRICE)
    assert steps(view, "cancel", "reject") == (["cancel"] if won(cancelled) else ["reject", "cancel"])
    assert report.acceptance_timeout.fired == (0 if won(cancelled) else 1)
    assert view.timeline[-2].party.value == ("customer" if won(cancelled) else "system")
    assert cast.reservation_versions(order) == [(3, True)]  # held, confirmed, released once


def test_a_customer_and_an_admin_cancel_a_paid_accepted_order_at_once(platform: Platform,
                                                                       clock: FixedClock) -> None:
    cast = Cast(platform)
    order = cast.paid()
    platform.orders.accept(cast.serving, order)
    clock.advance(START - dt.timedelta(hours=2) - clock.now())  # the customer gets half back, the admin all
    by_customer, by_admin = race(lambda: platform.orders.cancel(cast.customer, order, "plans changed"),
                                 lambda: platform.orders.cancel(cast.admin, order, "therapist unwell"))
    assert won(by_customer) != won(by_admin)
    view = check_money(cast, order)
    assert steps(view, "cancel") == ["cancel"] and view.state is OrderState.REFUNDED
    half = Money(PRICE.fen - PRICE.fen // 2)
    assert view.refunded == (half if won(by_customer) else PRICE)
    assert view.timeline[-2].party.value == ("customer" if won(by_customer) else "admin")
    assert cast.reservation_versions(order) == [(3, True)]


def test_the_therapist_declaring_the_customer_absent_racing_the_customers_cancel(
        platform: Platform, clock: FixedClock) -> None:
    cast = Cast(platform)
    order = cast.paid()
    clock.advance(START - dt.timedelta(minutes=5) - clock.now())
    for step in (platform.orders.accept, platform.orders.depart, platform.orders.arrive):
        step(cast.serving, order)
    clock.advance(dt.timedelta(minutes=20))
    absent, cancelled = race(lambda: platform.orders.mark_no_show(cast.serving, order),
                             lambda: platform.orders.cancel(cast.customer, order, "I am not home"))
    assert won(absent) != won(cancelled)
    view = check_money(cast, order)
    assert steps(view, "cancel", "mark_no_show") == (["mark_no_show"] if won(absent) else ["cancel"])
    assert view.state is (OrderState.NO_SHOW if won(absent) else OrderState.CANCELLED)
    assert (view.refunded, view.retained) == (Money(0), PRICE)  # late either way: nothing back
    assert cast.reservation_versions(order) == [(3, True)]


def test_the_customer_declaring_the_therapist_absent_racing_the_therapists_cancel(
        platform: Platform, clock: FixedClock) -> None:
    cast = Cast(platform)
    order = cast.paid()
    platform.orders.accept(cast.serving, order)
    clock.advance(START + dt.timedelta(minutes=31) - clock.now())
    absent, cancelled = race(lambda: platform.orders.mark_no_show(cast.customer, order),
                             lambda: platform.orders.cancel(cast.serving, order, "stuck in traffic"))
    assert won(absent) != won(cancelled)
    view = check_money(cast, order)
    assert steps(view, "cancel", "mark_no_show") == (["mark_no_show"] if won(absent) else ["cancel"])
    assert (view.state, view.refunded) == (OrderState.REFUNDED, PRICE)
    [penalty] = platform.orders.penalties(SYSTEM, cast.therapist_id).penalties
    assert (penalty.order_id, penalty.cause.value) == (
        order, "therapist_no_show" if won(absent) else "therapist_cancelled")
    assert cast.reservation_versions(order) == [(3, True)]
