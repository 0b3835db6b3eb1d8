"""platform.jobs.run_due on the memory platform with a fixed clock (decision 0021): every rule fires exactly
when due and not before, once; a second run does nothing; an overlapping run with a stale read fires nothing."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import attrs
import pytest

from catalog_support import certificate, make_profile
from conftest import Kit, Person
from massage_core.adapters.memory.orders import MemoryOrderRepository
from massage_core.domain.access import Actor
from massage_core.domain.audit import AuditOutcome
from massage_core.domain.coupons import CouponId, CouponUsage
from massage_core.domain.errors import PermissionDenied, ValidationError
from massage_core.domain.ids import AccountId
from massage_core.domain.order_events import OrderReminded
from massage_core.domain.order_states import OrderAction, OrderId, OrderState
from massage_core.domain.orders import Order
from massage_core.domain.payments import PaymentStatus
from massage_core.domain.ledger import Book, LedgerAccount
from massage_core.services.jobs import DueReport, JobsService, RuleCount, settled_key
from order_kit import START, SYSTEM, advance, book, gateway, pay
from search_support import Shop, approve

SECOND = dt.timedelta(seconds=1)


def run(kit: Kit) -> DueReport:
    return kit.platform.jobs.run_due(SYSTEM)


def counts(report: DueReport) -> dict[str, tuple[int, int]]:
    """The rules that did anything: name -> (fired, skipped)."""
    return {name: (c.fired, c.skipped) for name, c in report.rules().items() if c != RuleCount()}


def state(kit: Kit, order: str) -> OrderState:
    return kit.platform.orders.get(SYSTEM, order).state


def actions(kit: Kit, order: str) -> list[str]:
    return [s.action.value for s in kit.platform.orders.get(SYSTEM, order).timeline]


def live_references(kit: Kit, therapist: Person) -> list[str]:
    views = kit.platform.schedules.reservations(SYSTEM, therapist.account_id, start=START.subtract(days=1))
    return [r.reference for r in views]


# -- unpaid orders expire ------------------------------------------------------------------------------------


def test_an_unpaid_order_expires_after_the_payment_window_and_not_before(
        kit: Kit, shop: Shop, therapist: Person, customer: Person) -> None:
    order = book(kit.platform, customer.actor, therapist.account_id, shop.tuina).id
    kit.clock.advance(dt.timedelta(minutes=15))
    assert counts(run(kit)) == {}
    assert state(kit, order) is OrderState.PENDING_PAYMENT
    kit.clock.advance(SECOND)
    assert counts(run(kit)) == {"expire_payment": (1, 0)}
    view = kit.platform.orders.get(SYSTEM, order)
    assert view.state is OrderState.PAYMENT_EXPIRED
    assert (view.timeline[-1].action, view.timeline[-1].actor) == (OrderAction.EXPIRE_PAYMENT, "system")
    assert gateway(kit.platform).query(order).status is PaymentStatus.CLOSED
    assert live_references(kit, therapist) == []
    assert counts(run(kit)) == {}
    assert actions(kit, order).count("expire_payment") == 1


def test_expiry_releases_a_hold_that_is_still_live(kit: Kit, shop: Shop, therapist: Person,
                                                   customer: Person) -> None:
    """A longer hold than the window (configured elsewhere) is released when the order expires."""
    order = book(kit.platform, customer.actor, therapist.account_id, shop.tuina).id
    with kit.platform.deps.uow() as uow:
        [hold] = [r for r in uow.reservations.between(AccountId(therapist.account_id), START, START.add(hours=2),
                                                       live_at=kit.clock.now()) if r.reference == order]
        uow.reservations.save(hold.confirm(kit.clock.now()))
        uow.commit()
    kit.clock.advance(dt.timedelta(minutes=16))
    assert counts(run(kit)) == {"expire_payment": (1, 0)}
    assert live_references(kit, therapist) == []


def test_expiry_restores_the_coupon_redemption(kit: Kit, shop: Shop, therapist: Person, customer: Person) -> None:
    now = kit.clock.now()
    coupon = kit.platform.coupons.create(SYSTEM, "Welcome", amount_off=1_000, code="WELCOME",
                                         valid_from=now - dt.timedelta(days=1), valid_until=now + dt.timedelta(days=9))
    order = book(kit.platform, customer.actor, therapist.account_id, shop.tuina).id
    with kit.platform.deps.uow() as uow:
        uow.coupons.redeem(CouponId(coupon.id), AccountId(customer.account_id), OrderId(order), now)
        uow.commit()
    kit.clock.advance(dt.timedelta(minutes=16))
    assert counts(run(kit)) == {"expire_payment": (1, 0)}
    with kit.platform.deps.uow() as uow:
        assert uow.coupons.redemption_of(OrderId(order)) is None
        assert uow.coupons.usage(CouponId(coupon.id), AccountId(customer.account_id)) == CouponUsage(0, 0)


def test_an_order_paid_at_the_gateway_meanwhile_is_left_for_the_callback(
        kit: Kit, shop: Shop, therapist: Person, customer: Person) -> None:
    order = book(kit.platform, customer.actor, therapist.account_id, shop.tuina).id
    gateway(kit.platform).simulate_payment(order)  # paid; the callback is lost or still on its way
    kit.clock.advance(dt.timedelta(minutes=16))
    assert counts(run(kit)) == {"expire_payment": (0, 1)}
    assert state(kit, order) is OrderState.PENDING_PAYMENT
    headers, body = gateway(kit.platform).simulate_payment(order)  # the provider retries the delivery
    assert kit.platform.orders.payment_callback(headers, body).state is OrderState.AWAITING_ACCEPTANCE


# -- offers time out -----------------------------------------------------------------------------------------


def test_an_unaccepted_offer_is_cancelled_and_refunded_after_the_timeout(
        kit: Kit, shop: Shop, therapist: Person, customer: Person) -> None:
    order = book(kit.platform, customer.actor, therapist.account_id, shop.tuina).id
    paid = pay(kit.platform, order)
    kit.clock.advance(dt.timedelta(minutes=10))
    assert counts(run(kit)) == {}
    kit.clock.advance(SECOND)
    assert counts(run(kit)) == {"acceptance_timeout": (1, 0)}
    view = kit.platform.orders.get(SYSTEM, order)
    assert view.state is OrderState.REFUNDED
    assert (view.refunded, view.paid) == (paid.paid, paid.paid)
    assert actions(kit, order)[-3:] == ["reject", "cancel", "refund"]
    assert {s.actor for s in view.timeline[-3:]} == {"system"}
    assert gateway(kit.platform).query(order).refunded == paid.paid
    assert live_references(kit, therapist) == []
    assert counts(run(kit)) == {}


# -- finished visits auto-complete ---------------------------------------------------------------------------


def test_a_finished_visit_completes_after_the_delay(kit: Kit, shop: Shop, therapist: Person,
                                                    customer: Person) -> None:
    order = book(kit.platform, customer.actor, therapist.account_id, shop.tuina).id
    pay(kit.platform, order)
    advance(kit.platform, order, therapist.actor, customer.actor, "finished")
    kit.clock.advance(dt.timedelta(hours=24))
    assert counts(run(kit)) == {}
    kit.clock.advance(SECOND)
    assert counts(run(kit)) == {"auto_complete": (1, 0)}
    view = kit.platform.orders.get(SYSTEM, order)
    assert (view.state, view.timeline[-1].actor) == (OrderState.COMPLETED, "system")
    assert counts(run(kit)) == {}


# -- completed orders settle T+N days later ------------------------------------------------------------------


def therapist_balances(kit: Kit, therapist: Person) -> tuple[int, int, int]:
    """(pending, tips, payable) in fen."""
    with kit.platform.deps.uow() as uow:
        return tuple(uow.ledger.balance(LedgerAccount.of(book_, therapist.account_id)).fen  # type: ignore[return-value]
                     for book_ in (Book.THERAPIST_PENDING, Book.TIPS_PAYABLE, Book.THERAPIST_PAYABLE))


def test_a_completed_order_settles_after_n_days_once(kit: Kit, shop: Shop, therapist: Person,
                                                     customer: Person) -> None:
    order = book(kit.platform, customer.actor, therapist.account_id, shop.tuina).id
    pay(kit.platform, order)
    advance(kit.platform, order, therapist.actor, customer.actor, "completed")
    pending, tips, payable = therapist_balances(kit, therapist)
    assert pending > 0 and payable == 0
    kit.clock.advance(dt.timedelta(days=7))
    assert counts(run(kit)) == {}
    assert therapist_balances(kit, therapist) == (pending, tips, 0)
    kit.clock.advance(SECOND)
    assert counts(run(kit)) == {"settle": (1, 0)}
    assert therapist_balances(kit, therapist) == (0, 0, pending + tips)
    assert counts(run(kit)) == {}
    with kit.platform.deps.uow() as uow:
        entry = uow.ledger.entry(settled_key(order))
    assert entry is not None and entry.at == kit.clock.now()
    assert kit.platform.ledger.verify(SYSTEM).ok


def test_settlement_takes_the_oldest_first_and_skips_the_settled_ones(kit: Kit, shop: Shop, therapist: Person,
                                                                      customer: Person) -> None:
    orders = []
    for hour in range(3):
        order = book(kit.platform, customer.actor, therapist.account_id, shop.tuina,
                     start=START.add(hours=hour * 2)).id
        pay(kit.platform, order)
        advance(kit.platform, order, therapist.actor, customer.actor, "completed")
        orders.append(order)
    kit.clock.advance(dt.timedelta(days=8))
    for _ in orders:
        assert kit.platform.jobs.run_due(SYSTEM, limit_per_rule=1).settle == RuleCount(1, 0)
    assert kit.platform.jobs.run_due(SYSTEM, limit_per_rule=1).settle == RuleCount()
    with kit.platform.deps.uow() as uow:
        assert uow.ledger.posted_keys([settled_key(o) for o in orders]) == {settled_key(o) for o in orders}
    assert therapist_balances(kit, therapist)[:2] == (0, 0)


# -- reminders -----------------------------------------------------------------------------------------------


def accepted(kit: Kit, shop: Shop, therapist: Person, customer: Person) -> str:
    order = book(kit.platform, customer.actor, therapist.account_id, shop.tuina).id
    pay(kit.platform, order)
    advance(kit.platform, order, therapist.actor, customer.actor, "accepted")
    return order


def reminders(kit: Kit, order: str) -> list[str]:
    return [s.note for s in kit.platform.orders.get(SYSTEM, order).timeline if s.action is OrderAction.REMIND]


def test_reminders_fire_once_per_lead_time(kit: Kit, shop: Shop, therapist: Person, customer: Person) -> None:
    order = accepted(kit, shop, therapist, customer)
    recorded: list[Any] = []
    original = kit.platform.deps.uow

    def recording() -> Any:
        uow = original()
        inner = uow.record

        def record(events: Any) -> None:
            recorded.extend(e for e in events if isinstance(e, OrderReminded))
            inner(events)

        uow.record = record  # type: ignore[method-assign]
        return uow

    jobs = JobsService(attrs.evolve(kit.platform.deps, uow=recording))

    def run(_: Kit) -> DueReport:
        return jobs.run_due(SYSTEM)

    kit.clock.set(START.subtract(minutes=121))
    assert counts(run(kit)) == {}
    kit.clock.set(START.subtract(minutes=120))
    assert counts(run(kit)) == {"reminders": (1, 0)}
    assert counts(run(kit)) == {}
    kit.clock.set(START.subtract(minutes=31))
    assert counts(run(kit)) == {}
    kit.clock.set(START.subtract(minutes=30))
    assert counts(run(kit)) == {"reminders": (1, 0)}
    kit.clock.set(START.subtract(minutes=1))
    assert counts(run(kit)) == {}
    assert reminders(kit, order) == ["120", "30"]
    assert [(e.order_id, e.lead_minutes) for e in recorded] == [(order, 120), (order, 30)]
    view = kit.platform.orders.get(SYSTEM, order)
    assert view.state is OrderState.ACCEPTED
    kit.clock.set(START.add(minutes=1))
    assert counts(run(kit)) == {}


def test_an_order_accepted_late_gets_only_the_nearest_reminder(kit: Kit, shop: Shop, therapist: Person,
                                                               customer: Person) -> None:
    order = accepted(kit, shop, therapist, customer)
    kit.clock.set(START.subtract(minutes=20))
    assert counts(run(kit)) == {"reminders": (1, 0)}
    assert counts(run(kit)) == {}
    assert reminders(kit, order) == ["30"]


# -- certificates --------------------------------------------------------------------------------------------


def test_expired_badges_are_suspended_in_the_same_run(kit: Kit, shop: Shop) -> None:
    person = kit.therapist()
    with kit.platform.deps.uow() as uow:
        profile = make_profile(person.account_id, certificates=(certificate(dt.date(2026, 1, 6)),),
                               services=frozenset({shop.tuina}))
        uow.therapists.save(approve(uow.therapists.add(profile)))
        uow.commit()
    assert counts(run(kit)) == {}
    kit.clock.advance(dt.timedelta(days=2))
    assert counts(run(kit)) == {"expired_badges": (1, 0)}
    assert counts(run(kit)) == {}


# -- overlapping runs ----------------------------------------------------------------------------------------


def test_a_run_on_a_stale_read_fires_nothing(kit: Kit, shop: Shop, therapist: Person, customer: Person,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The second of two overlapping runs read the order before the first saved: its save is stale."""
    order = book(kit.platform, customer.actor, therapist.account_id, shop.tuina).id
    with kit.platform.deps.uow() as uow:
        stale = uow.orders.get(OrderId(order))
    kit.clock.advance(dt.timedelta(minutes=16))
    assert counts(run(kit)) == {"expire_payment": (1, 0)}
    real_get: Callable[[MemoryOrderRepository, OrderId], Order] = MemoryOrderRepository.get
    real_due = MemoryOrderRepository.due
    stale_reads = [stale]  # the run's one read of the order is stale; the save's own check reads the truth
    monkeypatch.setattr(MemoryOrderRepository, "get",
                        lambda self, oid: stale_reads.pop() if oid == order and stale_reads else real_get(self, oid))
    monkeypatch.setattr(MemoryOrderRepository, "due",
                        lambda self, st, before, limit=50: [stale] if st is OrderState.PENDING_PAYMENT
                        else real_due(self, st, before, limit=limit))
    assert counts(run(kit)) == {"expire_payment": (0, 1)}
    monkeypatch.undo()
    assert actions(kit, order).count("expire_payment") == 1


def test_two_runs_at_once_fire_each_order_once(kit: Kit, shop: Shop, therapist: Person) -> None:
    orders = []
    for hour in range(4):
        customer = kit.customer_by_phone()
        orders.append(book(kit.platform, customer.actor, therapist.account_id, shop.tuina,
                           start=START.add(hours=hour * 2)).id)
    kit.clock.advance(dt.timedelta(minutes=16))
    reports: list[DueReport] = []
    runners = [threading.Thread(target=lambda: reports.append(run(kit))) for _ in range(2)]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join()
    assert sum(r.expire_payment.fired for r in reports) == 4
    for order in orders:
        assert state(kit, order) is OrderState.PAYMENT_EXPIRED
        assert actions(kit, order).count("expire_payment") == 1


# -- who may run it ------------------------------------------------------------------------------------------


def test_a_superadmin_run_is_audited_and_others_are_refused(kit: Kit) -> None:
    admin = kit.superadmin()
    report = kit.platform.jobs.run_due(admin.actor)
    assert report.fired == 0
    [entry] = [e for e in kit.audit_entries() if e.action == "jobs.run_due"]
    assert (entry.actor, entry.outcome) == (admin.account_id, AuditOutcome.OK)
    with pytest.raises(PermissionDenied):
        kit.platform.jobs.run_due(kit.support().actor)
    with pytest.raises(PermissionDenied):
        kit.platform.jobs.run_due(Actor.anonymous())
    with pytest.raises(ValidationError) as bad:
        kit.platform.jobs.run_due(SYSTEM, limit_per_rule=0)
    assert bad.value.code == "jobs.limit"
