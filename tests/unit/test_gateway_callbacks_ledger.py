"""Issue 5, acceptance 3: a gateway callback changes the *ledger* exactly once, and no mutated callback writes.

The platform runs on the real WeChat Pay or Alipay adapter (parametrised), each against its local stub.  A
genuine callback delivered once, then 3 times in sequence and 10 times at once (threads behind a barrier) --
or first 10 times at once -- posts one ``payment captured`` entry under ``order:<id>:captured``: one entry
more in the whole ledger, clearing and prepayments each at the order's total, the order paid once.

The fuzz goes through ``platform.orders.payment_callback`` (not only the adapter): the adapter tests' own
mutation generators (header, body bytes, signature, timestamp, serial, GCM tag, resource nonce, associated
data, ids, amounts, encoding; unsigned, re-signed with a foreign key, or replayed under the gateway's own
signature) plus notifications the gateway itself signs afresh with a changed amount, order, app or merchant,
or a timestamp 6 minutes off.  Every one is refused with a PaymentError of a stable code, and afterwards
every table of the store -- ledger entries and balances, orders (version, state, payment), reservations,
audit -- is exactly as before.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import attrs
import pytest

from alipay_kit import body_of, form_of, gateway_for
from alipay_stub import AlipayStub, beijing, key_pair, rsa2_sign, signing_string
from conftest import Kit, Person, fast_hasher
from massage_core.adapters.memory.clock import FixedClock
from massage_core.adapters.memory.ids import SequentialIdGenerator
from massage_core.adapters.wechatpay import WeChatPayGateway
from massage_core.bootstrap import Platform
from massage_core.domain.access import Actor
from massage_core.domain.errors import PaymentError
from massage_core.domain.ledger import Book, LedgerAccount
from massage_core.domain.money import Money
from massage_core.domain.order_states import OrderAction, OrderState
from massage_core.services.order_views import OrderView
from order_kit import SENIOR_TUINA, book
from search_support import Shop
from test_alipay_callbacks import _encoding_mutations, _signed_mutations, _unsigned_mutations
from test_wechatpay_callbacks import _mutated
from wechatpay_kit import START, config, keys, make_stub
from wechatpay_stub import WeChatPayStub

Callback = tuple[dict[str, str], bytes]
CLEARING, PREPAID = LedgerAccount.of(Book.GATEWAY_CLEARING), LedgerAccount.of(Book.CUSTOMER_PREPAYMENTS)
CODES = {"payment.signature", "payment.malformed", "payment.mismatch", "payment.stale", "payment.replay"}
SIX_MINUTES = 6 * 60
CASES = 2500
"""Mutated callbacks per gateway."""


@dataclass
class Rig:
    """A platform on one real gateway adapter, its stub, and how to play the customer paying there."""

    method: str
    kit: Kit
    stub: Any
    pay: Callable[[OrderView], Callback]
    mutations: Callable[[random.Random, OrderView, Callback], Iterator[Callback]]


def _other_order(order: str) -> str:
    """A well-formed order id that is not ``order`` (and names no order of the platform)."""
    return order[:-1] + ("1" if order[-1] != "1" else "2")


def _wechat_mutations(stub: WeChatPayStub) -> Callable[[random.Random, OrderView, Callback], Iterator[Callback]]:
    def mutations(rng: random.Random, order: OrderView, genuine: Callback) -> Iterator[Callback]:
        headers, body = genuine
        paid = stub.transaction(order.id)
        stamp = int(stub.clock.now().timestamp())
        # Signed afresh by WeChat's own key: what only the service's checks (or the adapter's) can refuse.
        signed: list[dict[str, Any]] = [
            {**paid, "amount": {**paid["amount"], "total": SENIOR_TUINA + 1, "payer_total": SENIOR_TUINA + 1}},
            {**paid, "amount": {**paid["amount"], "total": 1, "payer_total": 1}},
            {**paid, "out_trade_no": _other_order(order.id)},
            {**paid, "appid": "wx0ther0ther0ther0"},
            {**paid, "mchid": "1900000999"},
            {**paid, "trade_state": "NOTPAY"},
            {**paid, "amount": {**paid["amount"], "currency": "USD"}},
        ]
        for data in signed:
            yield stub.notification(data)
        for seconds in (SIX_MINUTES, -SIX_MINUTES):
            yield stub.notification(paid, timestamp=stamp + seconds)
        yield stub.notification(paid, serial="PUB_KEY_ID_UNKNOWN")
        yield stub.notification(paid, key=keys().attacker)
        yield stub.notification(paid, apiv3_key=b"k" * 32)
        while True:
            mutated = _mutated(rng, stub, dict(headers), body)
            if mutated != genuine:
                yield mutated

    return mutations


def _alipay_mutations(stub: AlipayStub) -> Callable[[random.Random, OrderView, Callback], Iterator[Callback]]:
    def mutations(rng: random.Random, order: OrderView, genuine: Callback) -> Iterator[Callback]:
        headers, body = genuine
        form = form_of(body)
        now = stub.clock.now()
        # Signed afresh by Alipay's own key (a new notify_id each): refused by the service's or the adapter's checks.
        for change in ({"total_amount": "258.01"}, {"total_amount": "0.01"}, {"out_trade_no": _other_order(order.id)},
                       {"app_id": "2021000999999999"}, {"seller_id": "2088000000000001"},
                       {"trade_status": "WAIT_BUYER_PAY"},
                       {"notify_time": beijing(now + timedelta(seconds=SIX_MINUTES))},
                       {"notify_time": beijing(now - timedelta(seconds=SIX_MINUTES))}):
            yield stub.notification(order.id, **change)
        intruder = stub.notification_form(order.id)
        yield headers, body_of({**intruder, "sign_type": "RSA2",
                                "sign": rsa2_sign(key_pair("intruder")[0], signing_string(intruder, request=False))})
        for mutated in _signed_mutations(stub, form):
            yield headers, body_of(mutated)
        while True:
            for one in _unsigned_mutations(rng, form):
                yield headers, one if isinstance(one, bytes) else body_of(one)
            for raw in _encoding_mutations(rng, body):
                yield headers, raw

    return mutations


def _unchanged_alipay(body: bytes, genuine: bytes) -> bool:
    """A body that decodes to the genuine parameters (re-encoded, not mutated)."""
    try:
        return form_of(body) == form_of(genuine) and body.count(b"&") == genuine.count(b"&")
    except (UnicodeDecodeError, ValueError):
        return False


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture(params=["wechat", "alipay"])
def rig(request: pytest.FixtureRequest, clock: FixedClock) -> Iterator[Rig]:
    def platform(gateway: Any) -> Kit:
        return Kit(Platform.in_memory(clock=clock, ids=SequentialIdGenerator(), hasher=fast_hasher(),
                                      payment_gateway=gateway), clock)

    if request.param == "wechat":
        with make_stub(clock).serving() as wechat:
            yield Rig("wechat", platform(WeChatPayGateway(config(wechat.url), clock)), wechat,
                      lambda order: wechat.pay(order.id), _wechat_mutations(wechat))
        return
    alipay = AlipayStub(clock)

    def pay(order: OrderView) -> Callback:
        assert order.payment is not None
        alipay.open_order(order.payment.as_dict()["order_string"])
        return alipay.pay(order.id)

    try:
        yield Rig("alipay", platform(gateway_for(alipay, clock)), alipay, pay, _alipay_mutations(alipay))
    finally:
        alipay.stop()


@pytest.fixture
def kit(rig: Rig) -> Kit:
    return rig.kit


def _ledger(platform: Platform, order: str) -> tuple[int, list[str], int, int]:
    """(entry count, the keys of the ``payment captured`` entries naming ``order``, clearing, prepayments)."""
    with platform.deps.uow() as uow:
        captured = [e.key for e in uow.ledger.entries(CLEARING, limit=500)
                    if e.memo == "payment captured" and order in e.key]
        return (uow.ledger.entry_count(), captured, uow.ledger.balance(CLEARING).fen,
                uow.ledger.balance(PREPAID).fen)


def _store(kit: Kit) -> dict[str, Any]:
    """A copy of every table of the memory store (the search grid aside: it is not data)."""
    tables = kit.tables
    return {f.name: _copy(getattr(tables, f.name)) for f in attrs.fields(type(tables))
            if f.name not in ("search_index", "located")}


def _copy(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else list(value) if isinstance(value, list) else value


def _check_paid_once(kit: Kit, customer: Person, order: OrderView, entries_before: int) -> OrderView:
    platform = kit.platform
    count, captured, clearing, prepaid = _ledger(platform, order.id)
    assert captured == [f"order:{order.id}:captured"]
    assert (count - entries_before, clearing, prepaid) == (1, SENIOR_TUINA, SENIOR_TUINA)
    with platform.deps.uow() as uow:
        entry = uow.ledger.entry(f"order:{order.id}:captured")
    assert entry is not None
    assert sorted((ln.account.code, ln.side.value, ln.amount.fen) for ln in entry.lines) == [
        ("customer_prepayments", "credit", SENIOR_TUINA), ("gateway_clearing", "debit", SENIOR_TUINA)]
    final = platform.orders.get(customer.actor, order.id)
    assert (final.state, final.paid) == (OrderState.AWAITING_ACCEPTANCE, Money(SENIOR_TUINA))
    assert [s.action for s in final.timeline].count(OrderAction.PAY) == 1
    assert platform.ledger.verify(Actor.system()).ok
    return final


def _deliver_at_once(platform: Platform, callback: Callback, times: int = 10) -> set[tuple[int, str]]:
    barrier = threading.Barrier(times)

    def deliver(_: int) -> tuple[int, str]:
        barrier.wait()
        view = platform.orders.payment_callback(dict(callback[0]), bytes(callback[1]))
        return view.version, view.state.value

    with ThreadPoolExecutor(max_workers=times) as pool:
        return set(pool.map(deliver, range(times)))


def test_a_callback_replayed_in_sequence_then_concurrently_posts_one_capture(
    rig: Rig, kit: Kit, shop: Shop, therapist: Person, customer: Person
) -> None:
    platform = kit.platform
    order = book(platform, customer.actor, therapist.account_id, shop.tuina, method=rig.method)
    before = _ledger(platform, order.id)
    assert before[1:] == ([], 0, 0)
    callback = rig.pay(order)
    first = platform.orders.payment_callback(*callback)
    assert first.state is OrderState.AWAITING_ACCEPTANCE
    assert [platform.orders.payment_callback(*callback).version for _ in range(3)] == [first.version] * 3
    assert _deliver_at_once(platform, callback) == {(first.version, "awaiting_acceptance")}
    assert _check_paid_once(kit, customer, order, before[0]).version == first.version


def test_ten_first_deliveries_at_once_post_one_capture(
    rig: Rig, kit: Kit, shop: Shop, therapist: Person, customer: Person
) -> None:
    platform = kit.platform
    order = book(platform, customer.actor, therapist.account_id, shop.tuina, method=rig.method)
    entries = _ledger(platform, order.id)[0]
    callback = rig.pay(order)
    [(version, state)] = _deliver_at_once(platform, callback)
    assert state == "awaiting_acceptance"
    assert [platform.orders.payment_callback(*callback).version for _ in range(3)] == [version] * 3
    assert _check_paid_once(kit, customer, order, entries).version == version


def test_no_mutated_callback_is_accepted_or_writes_anything(
    rig: Rig, kit: Kit, shop: Shop, therapist: Person, customer: Person
) -> None:
    platform = kit.platform
    order = book(platform, customer.actor, therapist.account_id, shop.tuina, method=rig.method)
    genuine = rig.pay(order)
    paid = platform.orders.payment_callback(*genuine)
    before = _store(kit)
    ledger_before = _ledger(platform, order.id)
    rng = random.Random(f"20260105-{rig.method}")
    codes: dict[str, int] = {}
    cases = 0
    for headers, body in rig.mutations(rng, order, genuine):
        if cases == CASES:
            break
        if (headers, body) == genuine or (rig.method == "alipay" and _unchanged_alipay(body, genuine[1])):
            continue
        cases += 1
        with pytest.raises(PaymentError) as refused:
            platform.orders.payment_callback(headers, body)
        codes[refused.value.code] = codes.get(refused.value.code, 0) + 1
    assert set(codes) <= CODES and {"payment.signature", "payment.mismatch", "payment.stale"} <= set(codes), codes
    assert sum(codes.values()) == CASES
    assert _store(kit) == before
    assert _ledger(platform, order.id) == ledger_before
    assert platform.orders.payment_callback(*genuine) == paid  # the genuine one is still a harmless replay
    assert _store(kit) == before
