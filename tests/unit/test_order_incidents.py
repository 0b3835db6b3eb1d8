"""platform.orders no-shows, dismissed disputes, penalty records and payment records on the memory platform
(decision 0023): who may, what money moves, the reservation, and refusals with stable codes that change nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from conftest import Kit, Person
from massage_core.domain.cancellation import CancellationCause
from massage_core.domain.errors import Conflict, InvalidTransition, MassageError, NotFound, PaymentError, \
    PermissionDenied, ValidationError
from massage_core.domain.ledger import Book, LedgerAccount
from massage_core.domain.money import Money
from massage_core.domain.order_states import OrderState
from massage_core.domain.payments import PaymentMethod, PaymentStatus
from order_kit import SENIOR_TUINA, START, SYSTEM, advance, book, gateway, pay
from search_support import Shop


def snapshot(kit: Kit) -> tuple[Any, ...]:
    t = kit.tables
    return (dict(t.orders), dict(t.reservations), len(t.audit),
            kit.platform.deps.payment_gateway.__dict__["_payments"].copy())


def refused(error: type[MassageError], code: str, call: Any, *args: Any, **kwargs: Any) -> None:
    with pytest.raises(error) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, caught.value


def unchanged(kit: Kit, error: type[MassageError], code: str, call: Any, *args: Any, **kwargs: Any) -> None:
    """Refused with ``code``; nothing but a denial's audit entry changed."""
    before = snapshot(kit)
    refused(error, code, call, *args, **kwargs)
    after = snapshot(kit)
    assert (after[0], after[1], after[3]) == (before[0], before[1], before[3])


def live_references(kit: Kit, therapist: Person) -> list[str]:
    views = kit.platform.schedules.reservations(SYSTEM, therapist.account_id, start=START.subtract(days=1))
    return [r.reference for r in views]


def to(kit: Kit, moment: Any) -> None:
    kit.clock.advance(moment - kit.clock.now())


def served(kit: Kit, shop: Shop, therapist: Person, customer: Person, state: str) -> str:
    order = book(kit.platform, customer.actor, therapist.account_id, shop.tuina).id
    pay(kit.platform, order)
    advance(kit.platform, order, therapist.actor, customer.actor, state)
    return order


# -- no-shows ----------------------------------------------------------------------------------------------------


def test_the_customer_declares_the_therapist_absent_full_refund_and_a_penalty(
        kit: Kit, shop: Shop, therapist: Person, customer: Person) -> None:
    p = kit.platform
    order = served(kit, shop, therapist, customer, "departed")
    to(kit, START.add(minutes=29))
    unchanged(kit, Conflict, "order.no_show_too_early", p.orders.mark_no_show, customer.actor, order)
    unchanged(kit, PermissionDenied, "order.party", p.orders.mark_no_show, therapist.actor, order)
    to(kit, START.add(minutes=30))
    view = p.orders.mark_no_show(customer.actor, order)
    assert (view.state, view.refunded, view.retained) == (OrderState.REFUNDED, Money(SENIOR_TUINA), Money(0))
    assert [s.action.value for s in view.timeline][-2:] == ["mark_no_show", "refund"]
    assert view.settlement is not None and view.settlement.cause is CancellationCause.THERAPIST_NO_SHOW
    penalty = view.settlement.penalty
    assert penalty is not None and (penalty.therapist_id, penalty.at) == (therapist.account_id, kit.clock.now())
    assert gateway(p).query(order).refunded == Money(SENIOR_TUINA)
    assert live_references(kit, therapist) == []
    [record] = p.orders.penalties(therapist.actor).penalties
    assert (record.order_id, record.cause, record.therapist_id) == (order, CancellationCause.THERAPIST_NO_SHOW,
                                                                     therapist.account_id)
    refused(InvalidTransition, "invalid_transition", p.orders.mark_no_show, customer.actor, order)


def test_the_therapist_declares_the_customer_absent_after_the_grace(
        kit: Kit, shop: Shop, therapist: Person, customer: Person) -> None:
    p = kit.platform
    order = served(kit, shop, therapist, customer, "arrived")
    arrived = kit.clock.now()
    kit.clock.advance(dt.timedelta(minutes=19, seconds=59))
    unchanged(kit, Conflict, "order.no_show_too_early", p.orders.mark_no_show, therapist.actor, order)
    unchanged(kit, PermissionDenied, "order.party", p.orders.mark_no_show, customer.actor, order)
    to(kit, arrived + dt.timedelta(minutes=20))
    view = p.orders.mark_no_show(therapist.actor, order)
    assert (view.state, view.refunded, view.retained) == (OrderState.NO_SHOW, Money(0), Money(SENIOR_TUINA))
    assert view.settlement is not None and view.settlement.cause is CancellationCause.CUSTOMER_ABSENT
    assert view.settlement.penalty is None and view.settlement.therapist_compensation == Money(SENIOR_TUINA * 8 // 10)
    assert gateway(p).query(order).refunded == Money(0)
    assert live_references(kit, therapist) == []
    assert p.orders.penalties(therapist.actor).penalties == ()
    assert [e.outcome.value for e in kit.audit_entries() if e.action == "orders.mark_no_show"] == ["denied"]


def test_an_admin_marks_a_no_show_audited(kit: Kit, shop: Shop, therapist: Person, customer: Person) -> None:
    p = kit.platform
    order = served(kit, shop, therapist, customer, "accepted")
    to(kit, START.add(hours=1))
    view = p.orders.mark_no_show(kit.support().actor, order)
    assert view.state is OrderState.REFUNDED and view.timeline[-2].party.value == "admin"
    entry = kit.audit_entries()[-1]
    assert (entry.action, entry.target, dict(entry.details)) == ("orders.mark_no_show", order, {"state": "refunded"})


def test_no_show_refusals_change_nothing(kit: Kit, shop: Shop, therapist: Person, customer: Person) -> None:
    p = kit.platform
    order = served(kit, shop, therapist, customer, "accepted")
    unpaid = book(p, customer.actor, therapist.account_id, shop.tuina, start=START.add(hours=3)).id
    stranger, rival = kit.customer_by_phone(), kit.therapist()
    to(kit, START.add(hours=1))
    unchanged(kit, InvalidTransition, "invalid_transition", p.orders.mark_no_show, customer.actor, unpaid)
    unchanged(kit, NotFound, "not_found", p.orders.mark_no_show, stranger.actor, order)
    unchanged(kit, NotFound, "not_found", p.orders.mark_no_show, rival.actor, order)
    unchanged(kit, PermissionDenied, "permission_denied", p.orders.mark_no_show, kit.finance().actor, order)
    unchanged(kit, PermissionDenied, "order.party", p.orders.mark_no_show, SYSTEM, order)
    unchanged(kit, ValidationError, "invalid_id", p.orders.mark_no_show, customer.actor, "nonsense")
    unchanged(kit, NotFound, "not_found", p.orders.mark_no_show, customer.actor, "ord_" + "Z" * 26)


def test_a_gateway_refusal_stores_no_no_show(kit: Kit, shop: Shop, therapist: Person, customer: Person,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    p = kit.platform
    order = served(kit, shop, therapist, customer, "accepted")
    to(kit, START.add(hours=1))

    def down(*_: Any) -> Any:
        raise PaymentError("the gateway is down", code="payment.unavailable")

    monkeypatch.setattr(gateway(p), "refund", down)
    unchanged(kit, PaymentError, "payment.unavailable", p.orders.mark_no_show, customer.actor, order)
    monkeypatch.undo()
    assert p.orders.mark_no_show(customer.actor, order).state is OrderState.REFUNDED


# -- disputes ----------------------------------------------------------------------------------------------------


def test_an_admin_dismisses_a_dispute(kit: Kit, shop: Shop, therapist: Person, customer: Person) -> None:
    p = kit.platform
    order = served(kit, shop, therapist, customer, "finished")
    p.orders.dispute(customer.actor, order, "far too short")
    support = kit.support()
    unchanged(kit, ValidationError, "order.note", p.orders.dismiss_dispute, support.actor, order, "  ")
    unchanged(kit, ValidationError, "order.note", p.orders.dismiss_dispute, support.actor, order, "x" * 501)
    unchanged(kit, PermissionDenied, "permission_denied", p.orders.dismiss_dispute, customer.actor, order, "no")
    unchanged(kit, PermissionDenied, "permission_denied", p.orders.dismiss_dispute, therapist.actor, order, "no")
    unchanged(kit, PermissionDenied, "order.party", p.orders.dismiss_dispute, SYSTEM, order, "no")
    view = p.orders.dismiss_dispute(support.actor, order, "the visit lasted the full hour")
    assert (view.state, view.refunded) == (OrderState.COMPLETED, Money(0))
    assert view.timeline[-1].note == "the visit lasted the full hour"
    entry = kit.audit_entries()[-1]
    assert (entry.action, entry.target, entry.actor) == ("orders.dismiss_dispute", order, support.actor.label)
    unchanged(kit, InvalidTransition, "invalid_transition", p.orders.dismiss_dispute, support.actor, order, "again")


# -- penalty records ---------------------------------------------------------------------------------------------


def test_penalty_records_are_the_therapists_own_or_for_order_readers(
        kit: Kit, shop: Shop, therapist: Person, customer: Person) -> None:
    p = kit.platform
    first = served(kit, shop, therapist, customer, "accepted")
    kit.clock.advance(dt.timedelta(minutes=1))
    p.orders.cancel(therapist.actor, first, "my car broke down")
    second = book(p, customer.actor, therapist.account_id, shop.tuina, start=START.add(hours=3)).id
    pay(p, second)
    p.orders.accept(therapist.actor, second)
    kit.clock.advance(dt.timedelta(minutes=1))
    p.orders.cancel(therapist.actor, second, "double booked")
    free = book(p, customer.actor, therapist.account_id, shop.tuina, start=START.add(hours=6)).id
    p.orders.cancel(customer.actor, free)  # a customer's cancellation: no penalty
    mine = p.orders.penalties(therapist.actor)
    assert [(r.order_id, r.cause) for r in mine.penalties] == [
        (second, CancellationCause.THERAPIST_CANCELLED), (first, CancellationCause.THERAPIST_CANCELLED)]
    assert p.orders.penalties(kit.support().actor, therapist.account_id) == mine
    assert p.orders.penalties(SYSTEM, therapist.account_id, offset=1, limit=1).penalties == mine.penalties[1:]
    assert p.orders.penalties(kit.support().actor).penalties == ()  # an admin's own: none
    rival, auditor = kit.therapist(), kit.auditor()
    before = len(kit.audit_entries())
    refused(PermissionDenied, "permission_denied", p.orders.penalties, rival.actor, therapist.account_id)
    refused(PermissionDenied, "permission_denied", p.orders.penalties, customer.actor, therapist.account_id)
    refused(PermissionDenied, "permission_denied", p.orders.penalties, auditor.actor)
    assert len(kit.audit_entries()) == before + 3 and kit.audit_entries()[-1].outcome.value == "denied"
    refused(ValidationError, "actor.no_account", p.orders.penalties, SYSTEM)
    refused(ValidationError, "invalid_id", p.orders.penalties, SYSTEM, "nonsense")
    refused(ValidationError, "page.limit", p.orders.penalties, therapist.actor, limit=0)
    refused(ValidationError, "page.offset", p.orders.penalties, therapist.actor, offset=-1)


# -- payment records ---------------------------------------------------------------------------------------------


def test_the_customer_sees_the_payment_and_the_refund(kit: Kit, shop: Shop, therapist: Person,
                                                      customer: Person) -> None:
    p = kit.platform
    order = book(p, customer.actor, therapist.account_id, shop.tuina, method="alipay").id
    pending = p.orders.payments(customer.actor, order)
    assert (pending.entries, pending.gateway_status, pending.method) == ((), PaymentStatus.PENDING,
                                                                         PaymentMethod.ALIPAY)
    paid = pay(p, order)
    kit.clock.advance(dt.timedelta(minutes=5))
    cancelled = p.orders.cancel(customer.actor, order, "plans changed")
    records = p.orders.payments(customer.actor, order)
    transaction = gateway(p).query(order).provider_transaction_id
    refund_step = [s.action.value for s in cancelled.timeline].index("refund")
    assert [(e.kind, e.amount, e.at, e.reference, e.status) for e in records.entries] == [
        ("payment", Money(SENIOR_TUINA), paid.timeline[-1].at, transaction, "paid"),
        ("refund", Money(SENIOR_TUINA), kit.clock.now(), f"{order}-r{refund_step}", "refunded")]
    assert (records.paid, records.refunded, records.gateway_checked) == (Money(SENIOR_TUINA),) * 2 + (True,)
    assert p.orders.payments(kit.support().actor, order) == records
    assert p.orders.payments(SYSTEM, order) == records
    unchanged(kit, PermissionDenied, "permission_denied", p.orders.payments, therapist.actor, order)
    unchanged(kit, PermissionDenied, "permission_denied", p.orders.payments, kit.finance().actor, order)
    unchanged(kit, NotFound, "not_found", p.orders.payments, kit.customer_by_phone().actor, order)
    unchanged(kit, ValidationError, "invalid_id", p.orders.payments, customer.actor, "nonsense")


def test_a_late_payment_refunded_in_full_shows_from_the_gateway(kit: Kit, shop: Shop, therapist: Person,
                                                                customer: Person) -> None:
    p = kit.platform
    order = book(p, customer.actor, therapist.account_id, shop.tuina).id
    headers, body = gateway(p).simulate_payment(order)
    p.orders.cancel(customer.actor, order)
    p.orders.payment_callback(headers, body)
    records = p.orders.payments(customer.actor, order)
    assert (records.paid, records.gateway_status) == (Money(0), PaymentStatus.PAID)
    assert [(e.kind, e.amount, e.reference, e.status) for e in records.entries] == [
        ("payment", Money(SENIOR_TUINA), gateway(p).query(order).provider_transaction_id, "paid"),
        ("refund", Money(SENIOR_TUINA), f"{order}-late", "refunded")]
    with p.deps.uow() as uow:  # the books saw the money come in and go back out
        assert uow.ledger.entry(f"order:{order}:captured") is not None
        assert uow.ledger.entry(f"refund:{order}-late") is not None
        assert uow.ledger.balance(LedgerAccount.of(Book.GATEWAY_CLEARING)).fen == 0
        assert uow.ledger.balance(LedgerAccount.of(Book.CUSTOMER_PREPAYMENTS)).fen == 0


def test_without_the_gateway_the_orders_own_records_are_shown(kit: Kit, shop: Shop, therapist: Person,
                                                              customer: Person, monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    p = kit.platform
    order = served(kit, shop, therapist, customer, "accepted")

    def down(*_: Any) -> Any:
        raise PaymentError("the gateway is down", code="payment.unavailable")

    monkeypatch.setattr(gateway(p), "query", down)
    records = p.orders.payments(customer.actor, order)
    assert (records.gateway_checked, records.method, records.gateway_status) == (False, None, None)
    assert [e.kind for e in records.entries] == ["payment"]


def test_the_payment_history_spans_every_order_newest_first(kit: Kit, shop: Shop, therapist: Person,
                                                            customer: Person) -> None:
    p = kit.platform
    first = served(kit, shop, therapist, customer, "accepted")
    kit.clock.advance(dt.timedelta(minutes=1))
    second = book(p, customer.actor, therapist.account_id, shop.tuina, start=START.add(hours=3)).id
    pay(p, second)
    kit.clock.advance(dt.timedelta(minutes=1))
    p.orders.cancel(customer.actor, second)
    book(p, customer.actor, therapist.account_id, shop.tuina, start=START.add(hours=6))  # unpaid: no entries
    history = p.orders.payment_history(customer.actor)
    assert [(e.order_id, e.kind) for e in history.entries] == [(second, "refund"), (second, "payment"),
                                                               (first, "payment")]
    assert p.orders.payment_history(customer.actor, offset=1, limit=1).entries == history.entries[1:2]
    assert p.orders.payment_history(kit.customer_by_phone().actor).entries == ()
    refused(PermissionDenied, "permission_denied", p.orders.payment_history, therapist.actor)
    refused(ValidationError, "actor.no_account", p.orders.payment_history, SYSTEM)
    refused(ValidationError, "page.limit", p.orders.payment_history, customer.actor, limit=201)
