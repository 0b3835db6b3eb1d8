"""The order service on the WeChat Pay adapter (and the local WeChat stub) instead of the sandbox.

Booking opens an App payment at the stub, the stub's encrypted notification
pays the order exactly once however often it is delivered, a tampered or
foreign one changes nothing, and a cancellation refunds through
``/v3/refund/domestic/refunds`` with the service's refund number.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import Kit, Person, fast_hasher
from massage_core.adapters.memory.clock import FixedClock
from massage_core.adapters.memory.ids import SequentialIdGenerator
from massage_core.adapters.wechatpay import WeChatPayGateway
from massage_core.bootstrap import Platform
from massage_core.domain.errors import PaymentError
from massage_core.domain.money import Money
from massage_core.domain.order_states import OrderState
from massage_core.domain.payments import PaymentStatus
from order_kit import SENIOR_TUINA, book
from search_support import Shop
from wechatpay_kit import clock, config, stub  # noqa: F401  (fixtures)
from wechatpay_stub import WeChatPayStub


@pytest.fixture
def kit(clock: FixedClock, stub: WeChatPayStub) -> Kit:
    gateway = WeChatPayGateway(config(stub.url), clock)
    platform = Platform.in_memory(clock=clock, ids=SequentialIdGenerator(), hasher=fast_hasher(),
                                  payment_gateway=gateway)
    return Kit(platform, clock)


def test_book_pay_once_and_refund_through_wechat(kit: Kit, shop: Shop, therapist: Person, customer: Person,
                                                 stub: WeChatPayStub) -> None:
    p = kit.platform
    order = book(p, customer.actor, therapist.account_id, shop.tuina)
    assert order.payment is not None and order.payment.kind == "prepay"
    sent = json.loads(stub.requests[0][3])
    assert (sent["out_trade_no"], sent["amount"]["total"]) == (order.id, SENIOR_TUINA)
    assert sent["time_expire"]  # the hold's end, in Beijing time
    headers, body = stub.pay(order.id)
    first = p.orders.payment_callback(headers, body)
    assert (first.state, first.paid) == (OrderState.AWAITING_ACCEPTANCE, Money(SENIOR_TUINA))
    for _ in range(3):
        assert p.orders.payment_callback(headers, body).version == first.version
    barrier = threading.Barrier(10)

    def deliver(_: int) -> int:
        barrier.wait()
        return p.orders.payment_callback(headers, body).version

    with ThreadPoolExecutor(max_workers=10) as pool:
        assert set(pool.map(deliver, range(10))) == {first.version}
    assert [s.action.value for s in p.orders.get(customer.actor, order.id).timeline].count("pay") == 1
    cancelled = p.orders.cancel(customer.actor, order.id, "plans changed")
    assert cancelled.refunded == Money(SENIOR_TUINA)
    [refund] = stub.refunds.values()
    assert (refund["out_trade_no"], refund["amount"]["refund"]) == (order.id, SENIOR_TUINA)
    assert p.deps.payment_gateway.query(order.id).refunded == Money(SENIOR_TUINA)


def test_tampered_or_unpaid_orders_notifications_change_nothing(kit: Kit, shop: Shop, therapist: Person,
                                                              customer: Person, stub: WeChatPayStub) -> None:
    p = kit.platform
    order = book(p, customer.actor, therapist.account_id, shop.tuina)
    headers, body = stub.pay(order.id)
    tampered = bytearray(body)
    tampered[len(body) // 2] ^= 1
    with pytest.raises(PaymentError) as caught:
        p.orders.payment_callback(headers, bytes(tampered))
    assert caught.value.code == "payment.signature"
    assert p.orders.get(customer.actor, order.id).state is OrderState.PENDING_PAYMENT
    cheap = stub.transaction(order.id)
    cheap["amount"] = {"total": 1, "payer_total": 1, "currency": "CNY"}
    with pytest.raises(PaymentError) as mismatch:
        p.orders.payment_callback(*stub.notification(cheap))
    assert mismatch.value.code == "payment.mismatch"
    assert p.orders.get(customer.actor, order.id).paid == Money(0)


def test_cancelling_an_unpaid_order_closes_it_at_wechat(kit: Kit, shop: Shop, therapist: Person,
                                                        customer: Person, stub: WeChatPayStub) -> None:
    p = kit.platform
    order = book(p, customer.actor, therapist.account_id, shop.tuina)
    assert p.orders.cancel(customer.actor, order.id).state is OrderState.CANCELLED
    assert stub.orders[order.id]["trade_state"] == "CLOSED"
    assert p.deps.payment_gateway.query(order.id).status is PaymentStatus.CLOSED
