"""platform.orders on the memory platform with a fixed clock: the lifecycle, callbacks, cancellations, refunds,
the therapist's time, and bad input refused with stable codes and nothing changed."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import attrs
import pytest

from conftest import Kit, Person
from massage_core.domain.errors import Conflict, InvalidTransition, MassageError, NotFound, PaymentError, \
    PermissionDenied, ValidationError
from massage_core.domain.money import Money
from massage_core.domain.order_states import OrderAction, OrderState
from massage_core.domain.payments import PaymentStatus
from order_kit import LAT, LNG, SENIOR_TUINA, START, SYSTEM, advance, book, gateway, pay
from search_support import Shop


def snapshot(kit: Kit) -> tuple[Any, ...]:
    t = kit.tables
    return (dict(t.orders), dict(t.reservations), len(t.audit), kit.platform.deps.payment_gateway.__dict__["_payments"].copy())


def live_references(kit: Kit, therapist: Person) -> list[str]:
    views = kit.platform.schedules.reservations(SYSTEM, therapist.account_id, start=START.subtract(days=1))
    return [r.reference for r in views]


def refused(error: type[MassageError], code: str, call: Any, *args: Any, **kwargs: Any) -> MassageError:
    with pytest.raises(error) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, caught.value
    return caught.value


# -- the lifecycle ---------------------------------------------------------------------------------------------


def test_the_full_lifecycle(kit: Kit, shop: Shop, therapist: Person, customer: Person) -> None:
    p = kit.platform
    quote = p.orders.quote(customer.actor, therapist=therapist.account_id, service=shop.tuina, start=START, lat=LAT,
                           lng=LNG, tip=500)
    assert quote.total == Money(SENIOR_TUINA + 500)
    booked = book(p, customer.actor, therapist.account_id, shop.tuina, tip=500)
    assert (booked.state, booked.total, booked.payment is not None) == (OrderState.PENDING_PAYMENT, quote.total, True)
    assert booked.payment is not None and booked.payment.amount == quote.total
    [hold] = p.schedules.reservations(SYSTEM, therapist.account_id, start=START.subtract(days=1))
    assert (hold.reference, hold.status) == (booked.id, "held")
    paid = pay(p, booked.id)
    assert (paid.state, paid.paid) == (OrderState.AWAITING_ACCEPTANCE, quote.total)
    [firm] = p.schedules.reservations(SYSTEM, therapist.account_id, start=START.subtract(days=1))
    assert firm.status == "confirmed"
    done = advance(p, booked.id, therapist.actor, customer.actor, "completed")
    assert [s.action for s in done.timeline] == [OrderAction(a) for a in (
        "place", "pay", "accept", "depart", "arrive", "start", "finish", "complete")]
    assert [s.actor for s in done.timeline][2:7] == [therapist.account_id] * 5
    assert p.orders.get(customer.actor, booked.id) == done
    served = p.orders.get(therapist.actor, booked.id)  # the visit is over: the therapist sees the address masked,
    assert attrs.evolve(served, address=done.address, timeline=done.timeline) == done  # and no transaction id
    assert served.address != done.address and served.timeline[1].note == "" != done.timeline[1].note
    assert p.orders.spending(customer.actor).net == quote.total
    mine = p.orders.list_mine(customer.actor, "completed")
    assert [o.id for o in mine.orders] == [booked.id]
    assert [o.id for o in p.orders.list_mine(therapist.actor, "completed").orders] == [booked.id]
    assert p.orders.list_mine(customer.actor, "cancelled").orders == ()
    assert [o.id for o in p.orders.list_all(kit.support().actor, "completed").orders] == [booked.id]


def test_sos_keeps_the_state_and_is_audited(kit: Kit, shop: Shop, therapist: Person, customer: Person) -> None:
    p = kit.platform
    order = book(p, customer.actor, therapist.account_id, shop.tuina).id
    pay(p, order)
    advance(p, order, therapist.actor, customer.actor, "departed")
    view = p.orders.sos(therapist.actor, order, "a dog in the lift")
    assert view.state is OrderState.DEPARTED and view.timeline[-1].note == "a dog in the lift"
    assert kit.audit_entries()[-1].action == "orders.sos"


# -- the payment callback --------------------------------------------------------------------------------------


def test_a_replayed_callback_changes_the_order_once(kit: Kit, shop: Shop, therapist: Person,
                                                    customer: Person) -> None:
    p = kit.platform
    order = book(p, customer.actor, therapist.account_id, shop.tuina).id
    headers, body = gateway(p).simulate_payment(order)
    first = p.orders.payment_callback(headers, body)
    again = p.orders.payment_callback(headers, body)
    resent_headers, resent_body = gateway(p).simulate_payment(order)  # the provider retries with a new nonce
    third = p.orders.payment_callback(resent_headers, resent_body)
    assert first == again == third
    assert [s.action for s in third.timeline].count(OrderAction.PAY) == 1


@pytest.mark.parametrize("tamper", ["signature", "body"])
def test_a_tampered_callback_is_refused_and_changes_nothing(kit: Kit, shop: Shop, therapist: Person,
                                                            customer: Person, tamper: str) -> None:
    p = kit.platform
    order = book(p, customer.actor, therapist.account_id, shop.tuina).id
    headers, body = gateway(p).simulate_payment(order)
    if tamper == "signature":
        headers = {**headers, "Sandbox-Signature": "A" * 44}
    else:
        body = body.replace(b'"status":"paid"', b'"status":"paid" ')
    before = snapshot(kit)
    refused(PaymentError, "payment.signature", p.orders.payment_callback, headers, body)
    assert snapshot(kit) == before


def test_a_callback_of_another_amount_or_order_is_refused(kit: Kit, shop: Shop, therapist: Person,
                                                          customer: Person) -> None:
    p = kit.platform
    order = book(p, customer.actor, therapist.account_id, shop.tuina).id
    _, body = gateway(p).simulate_payment(order)
    content = json.loads(body)
    for change in ({"amount": {"currency": "CNY", "total": 100}}, {"out_trade_no": "ord_" + "Z" * 26},
                   {"out_trade_no": "other-order-1"}):
        forged = json.dumps({**content, **change}, separators=(",", ":"), sort_keys=True).encode()
        before = snapshot(kit)
        refused(PaymentError, "payment.mismatch", p.orders.payment_callback, gateway(p).sign_callback(forged), forged)
        assert snapshot(kit) == before


def test_a_failed_payment_changes_nothing(kit: Kit, shop: Shop, therapist: Person, customer: Person) -> None:
    p = kit.platform
    order = book(p, customer.actor, therapist.account_id, shop.tuina).id
    headers, body = gateway(p).simulate_payment(order, PaymentStatus.FAILED)
    assert p.orders.payment_callback(headers, body).state is OrderState.PENDING_PAYMENT


def test_a_payment_after_cancellation_is_refunded_in_full(kit: Kit, shop: Shop, therapist: Person,
                                                          customer: Person) -> None:
    p = kit.platform
    order = book(p, customer.actor, therapist.account_id, shop.tuina)
    g = gateway(p)
    headers, body = g.simulate_payment(order.id)  # paid at the provider, the callback is late
    p.orders.cancel(customer.actor, order.id, "changed my mind")
    view = p.orders.payment_callback(headers, body)
    assert (view.state, view.paid) == (OrderState.CANCELLED, Money(0))
    assert g.query(order.id).refunded == order.total
    p.orders.payment_callback(headers, body)
    assert g.query(order.id).refunded == order.total


def test_a_late_payment_after_the_hold_lapsed_reserves_again(kit: Kit, shop: Shop, therapist: Person,
                                                             customer: Person) -> None:
    p = kit.platform
    order = book(p, customer.actor, therapist.account_id, shop.tuina).id
    kit.clock.advance(dt.timedelta(minutes=16))
    assert live_references(kit, therapist) == []
    assert pay(p, order).state is OrderState.AWAITING_ACCEPTANCE
    assert live_references(kit, therapist) == [order]


# -- cancellation and refunds ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("before_start", "refund"), [
    (dt.timedelta(hours=5), SENIOR_TUINA), (dt.timedelta(hours=4), SENIOR_TUINA),
    (dt.timedelta(hours=2), SENIOR_TUINA // 2), (dt.timedelta(minutes=30), 0),
])
def test_customer_cancellation_after_acceptance_follows_the_notice_windows(
        kit: Kit, shop: Shop, therapist: Person, customer: Person, before_start: dt.timedelta, refund: int) -> None:
    p = kit.platform
    order = book(p, customer.actor, therapist.account_id, shop.tuina).id
    pay(p, order)
    p.orders.accept(therapist.actor, order)
    kit.clock.advance(START - before_start - kit.clock.now())
    view = p.orders.cancel(customer.actor, order, "plans changed")
    assert gateway(p).query(order).refunded == Money(refund)
    assert view.refunded == Money(refund) and view.retained == Money(SENIOR_TUINA - refund)
    assert view.state is (OrderState.REFUNDED if refund else OrderState.CANCELLED)
    assert live_references(kit, therapist) == []
    assert p.orders.spending(customer.actor).net == Money(SENIOR_TUINA - refund)


def test_cancelling_before_acceptance_is_free_and_an_unpaid_one_closes_the_payment(
        kit: Kit, shop: Shop, therapist: Person, customer: Person) -> None:
    p = kit.platform
    paid = book(p, customer.actor, therapist.account_id, shop.tuina).id
    pay(p, paid)
    assert p.orders.cancel(customer.actor, paid).refunded == Money(SENIOR_TUINA)
    unpaid = book(p, customer.actor, therapist.account_id, shop.tuina).id
    assert p.orders.cancel(customer.actor, unpaid).state is OrderState.CANCELLED
    assert gateway(p).query(unpaid).status is PaymentStatus.CLOSED
    assert live_references(kit, therapist) == []


def test_a_rejection_cancels_and_refunds_in_full(kit: Kit, shop: Shop, therapist: Person, customer: Person) -> None:
    p = kit.platform
    order = book(p, customer.actor, therapist.account_id, shop.tuina).id
    pay(p, order)
    refused(ValidationError, "order.reason", p.orders.reject, therapist.actor, order)
    view = p.orders.reject(therapist.actor, order, "too far tonight")
    assert view.state is OrderState.REFUNDED and view.therapist_id is None
    assert [s.action.value for s in view.timeline][-3:] == ["reject", "cancel", "refund"]
    assert gateway(p).query(order).refunded == Money(SENIOR_TUINA)
    assert live_references(kit, therapist) == []
    refused(NotFound, "not_found", p.orders.get, therapist.actor, order)  # no longer theirs


def test_an_admin_refunds_part_of_a_disputed_order_once(kit: Kit, shop: Shop, therapist: Person,
                                                        customer: Person) -> None:
    p = kit.platform
    order = book(p, customer.actor, therapist.account_id, shop.tuina).id
    pay(p, order)
    advance(p, order, therapist.actor, customer.actor, "finished")
    p.orders.dispute(customer.actor, order, "far too short")
    support = kit.support()
    refused(ValidationError, "order.refund_amount", p.orders.refund, support.actor, order, SENIOR_TUINA + 1)
    view = p.orders.refund(support.actor, order, 5_001)
    assert (view.state, view.refunded) == (OrderState.REFUNDED, Money(5_001))
    assert gateway(p).query(order).refunded == Money(5_001)
    refused(InvalidTransition, "invalid_transition", p.orders.refund, support.actor, order, 1)
    assert kit.audit_entries()[-1].action == "orders.refund"


# -- the therapist's time --------------------------------------------------------------------------------------


def test_a_hold_blocks_the_slot_until_released_by_a_cancellation(kit: Kit, shop: Shop, therapist: Person,
                                                                 customer: Person) -> None:
    p = kit.platform
    first = book(p, customer.actor, therapist.account_id, shop.tuina).id
    other = kit.customer_by_phone()
    before = snapshot(kit)
    refused(Conflict, "reservation.overlap", book, p, other.actor, therapist.account_id, shop.tuina,
            start=START.add(minutes=30))
    assert snapshot(kit) == before
    p.orders.cancel(customer.actor, first)
    assert book(p, other.actor, therapist.account_id, shop.tuina, start=START.add(minutes=30)).therapist_id == \
        therapist.account_id


# -- refusals ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("changes", "error", "code"), [
    ({"start": START.subtract(days=2)}, ValidationError, "order.start_in_past"),
    ({"start": dt.datetime(2026, 1, 6, 10)}, ValidationError, "time.naive"),
    ({"start_in": dt.timedelta(minutes=30)}, ValidationError, "order.too_soon"),
    ({"lat": LAT + 0.2}, ValidationError, "order.outside_area"),
    ({"lat": 91}, ValidationError, "pricing.point"),
    ({"service": "svc_" + "Z" * 26}, NotFound, "not_found"),
    ({"service": "nonsense"}, ValidationError, "invalid_id"),
    ({"therapist": "acc_" + "Z" * 26}, NotFound, "not_found"),
    ({"conditions": ["pregnancy"]}, ValidationError, "order.contraindicated"),
    ({"conditions": ["flu"]}, ValidationError, "catalog.contraindication"),
    ({"therapist_gender": "male"}, ValidationError, "order.gender_mismatch"),
    ({"therapist_gender": "x"}, ValidationError, "therapist.gender"),
    ({"zone": "Mars/Base"}, ValidationError, "time.zone"),
    ({"tip": -1}, ValidationError, "pricing.tip"),
    ({"method": "cash"}, ValidationError, "payment.method"),
    ({"start": START.replace(hour=22)}, Conflict, "reservation.outside_hours"),
])
def test_bad_bookings_are_refused_with_stable_codes_and_change_nothing(
        kit: Kit, shop: Shop, therapist: Person, customer: Person, changes: dict[str, Any],
        error: type[MassageError], code: str) -> None:
    if "start_in" in changes:
        changes = {"start": kit.clock.now() + changes["start_in"]}
    args: dict[str, Any] = {"therapist": therapist.account_id, "service": shop.tuina, "start": START, "lat": LAT,
                            "lng": LNG, **changes}
    before = snapshot(kit)
    refused(error, code, kit.platform.orders.book, customer.actor, **args)
    assert snapshot(kit) == before


def test_only_customers_book_and_nobody_acts_on_somebody_elses_order(
        kit: Kit, shop: Shop, therapist: Person, customer: Person) -> None:
    p = kit.platform
    refused(PermissionDenied, "permission_denied", book, p, therapist.actor, therapist.account_id, shop.tuina)
    order = book(p, customer.actor, therapist.account_id, shop.tuina).id
    pay(p, order)
    stranger, rival = kit.customer_by_phone(), kit.therapist()
    before = snapshot(kit)
    refused(NotFound, "not_found", p.orders.cancel, stranger.actor, order)
    refused(NotFound, "not_found", p.orders.get, stranger.actor, order)
    refused(NotFound, "not_found", p.orders.accept, rival.actor, order)
    refused(PermissionDenied, "permission_denied", p.orders.accept, customer.actor, order)
    refused(InvalidTransition, "invalid_transition", p.orders.finish, therapist.actor, order)
    refused(PermissionDenied, "order.party", p.orders.accept, SYSTEM, order)
    after = snapshot(kit)
    assert after[:2] == before[:2] and after[3] == before[3]  # only denials were audited
