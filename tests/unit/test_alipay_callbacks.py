"""Alipay notifications: every fixture replayed in sequence and concurrently, and a mutation fuzz.

Idempotency: each notification fixture (paid, finished, partly refunded,
closed after a full refund, closed unpaid) replayed 3 times in sequence and
10 times concurrently gives equal notices, counted once; through the order
service the order is paid exactly once.

Fuzz (seeded, a few thousand cases, well under a second of RSA work): every
parameter, the signature, sign_type, amounts, ids, app_id, seller_id,
timestamps and the encoding are mutated -- unsigned (as an attacker could)
and, for the semantic checks, re-signed with Alipay's key.  Every mutated
notification is refused with a PaymentError and nothing is counted or
written.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import parse_qsl, quote, urlencode

import pytest

from alipay_kit import (
    RecordingGateway,
    body_of,
    clock,  # noqa: F401 - fixture
    form_of,
    gateway_for,
    open_and_pay,
    stub,  # noqa: F401 - fixture
)
from alipay_stub import AlipayStub, beijing, key_pair, rsa2_sign, signing_string
from conftest import Kit, Person, fast_hasher
from massage_core.adapters.memory.clock import FixedClock
from massage_core.adapters.memory.ids import SequentialIdGenerator
from massage_core.bootstrap import Platform
from massage_core.domain.errors import PaymentError
from massage_core.domain.money import Money
from massage_core.domain.order_states import OrderAction, OrderState
from massage_core.domain.payments import PaymentMethod, PaymentStatus
from order_kit import book, catalogue, make_public
from payment_contract import ORDER, PRICE, refund, request

Callback = tuple[dict[str, str], bytes]


@pytest.fixture
def gateway(stub: AlipayStub, clock: FixedClock) -> RecordingGateway:
    return gateway_for(stub, clock)


def fixture_callbacks(stub: AlipayStub, gateway: RecordingGateway) -> dict[str, Callback]:
    """One notification of each kind Alipay sends for a trade, each for its own order."""
    orders = {name: f"ord_{name:_<22}"[:26] for name in ("paid", "finished", "partly", "refunded", "closed")}
    for order in orders.values():
        gateway.create_payment(request(order, method=PaymentMethod.ALIPAY))
    callbacks = {name: open_and_pay(stub, gateway, order) for name, order in orders.items() if name != "closed"}
    stub.open_order(gateway.payloads[orders["closed"]].as_dict()["order_string"])
    callbacks["closed"] = stub.expire(orders["closed"])
    callbacks["finished"] = stub.notification(orders["finished"], trade_status="TRADE_FINISHED")
    gateway.refund(refund("rf-p", Money.yuan(50), order=orders["partly"]))
    callbacks["partly"] = stub.notification(orders["partly"], refund_fee="50.00", out_biz_no="rf-p",
                                            gmt_refund=beijing(stub.clock.now()) + ".123")
    gateway.refund(refund("rf-r", PRICE, order=orders["refunded"]))
    callbacks["refunded"] = stub.notification(orders["refunded"], refund_fee="198.00", out_biz_no="rf-r",
                                              gmt_refund=beijing(stub.clock.now()) + ".456")
    return callbacks


def test_every_fixture_replayed_in_sequence_and_concurrently_gives_one_notice(
    stub: AlipayStub, gateway: RecordingGateway
) -> None:
    callbacks = fixture_callbacks(stub, gateway)
    expected = {"paid": PaymentStatus.PAID, "finished": PaymentStatus.PAID, "partly": PaymentStatus.PAID,
                "refunded": PaymentStatus.PAID, "closed": PaymentStatus.CLOSED}
    for name, callback in callbacks.items():
        before = gateway.distinct_notices
        sequential = [gateway.parse_callback(*callback) for _ in range(3)]
        with ThreadPoolExecutor(max_workers=10) as pool:
            concurrent = list(pool.map(lambda _: gateway.parse_callback(*callback), range(10)))
        assert len(set(sequential + concurrent)) == 1, name
        assert sequential[0].status is expected[name], name
        assert gateway.distinct_notices == before + 1, name


def test_concurrent_first_deliveries_are_accepted_once(stub: AlipayStub, gateway: RecordingGateway) -> None:
    gateway.create_payment(request(method=PaymentMethod.ALIPAY))
    callback = open_and_pay(stub, gateway, ORDER)
    with ThreadPoolExecutor(max_workers=10) as pool:
        notices = set(pool.map(lambda _: gateway.parse_callback(*callback), range(10)))
    assert len(notices) == 1 and gateway.distinct_notices == 1


# -- through the order service: the order is paid exactly once -----------------------------------


@pytest.fixture
def kit(stub: AlipayStub, clock: FixedClock) -> Iterator[Kit]:
    platform = Platform.in_memory(clock=clock, ids=SequentialIdGenerator(), hasher=fast_hasher(),
                                  payment_gateway=gateway_for(stub, clock))
    yield Kit(platform, clock)


def test_replayed_notifications_pay_the_order_once(kit: Kit, stub: AlipayStub) -> None:
    platform = kit.platform
    shop = catalogue(platform)
    therapist: Person = kit.therapist()
    make_public(platform, therapist.account_id, shop)
    customer = kit.customer_by_phone()
    booked = book(platform, customer.actor, therapist.account_id, shop.tuina, method="alipay")
    assert booked.payment is not None and booked.payment.kind == "order_string"
    stub.open_order(booked.payment.as_dict()["order_string"])
    callback = stub.pay(booked.id)
    views = [platform.orders.payment_callback(*callback) for _ in range(3)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        views += list(pool.map(lambda _: platform.orders.payment_callback(*callback), range(10)))
    retry = stub.notification(booked.id)  # Alipay's own retry: new notify_id, same trade
    views.append(platform.orders.payment_callback(*retry))
    final = platform.orders.get(customer.actor, booked.id)
    assert final.state is OrderState.AWAITING_ACCEPTANCE
    assert [s.action for s in final.timeline].count(OrderAction.PAY) == 1
    assert {v.state for v in views} == {OrderState.AWAITING_ACCEPTANCE}
    mutated = body_of({**form_of(callback[1]), "total_amount": "1.98"})
    with pytest.raises(PaymentError):
        platform.orders.payment_callback(callback[0], mutated)
    assert platform.orders.get(customer.actor, booked.id) == final


# -- the mutation fuzz ------------------------------------------------------------------------------


def _resign(stub: AlipayStub, form: dict[str, str]) -> dict[str, str]:
    return stub.sign_form(form)


def _unsigned_mutations(rng: random.Random, form: dict[str, str]) -> Iterator[dict[str, str] | bytes]:
    """Mutations an attacker without Alipay's key can make: each changes what was signed, or breaks the form."""
    keys = sorted(form)
    alphabet = "0123456789abcdefXYZ+/=.-_ 中"
    for key in keys:  # every parameter: changed, emptied, dropped, or given twice
        value = form[key]
        pos = rng.randrange(len(value) + 1) if value else 0
        yield {**form, key: value[:pos] + rng.choice(alphabet) + value[pos:]}
        if value:
            pos = rng.randrange(len(value))
            replacement = rng.choice([c for c in alphabet if c != value[pos]])
            yield {**form, key: value[:pos] + replacement + value[pos + 1:]}
            yield {**form, key: ""}
            yield {**form, key: value.upper() if value.upper() != value else value.lower() + "x"}
        yield {k: v for k, v in form.items() if k != key}
        yield urlencode(form).encode() + f"&{key}=".encode() + quote(value + "x").encode()
        yield {**{k: v for k, v in form.items() if k != key}, key.upper(): value}
    yield {**form, "extra_param": "1"}
    sign = form["sign"]
    yield {**form, "sign": sign[:-4]}
    yield {**form, "sign": sign + "AAAA"}
    yield {**form, "sign": sign.replace("+", "-").replace("/", "_") if "+" in sign or "/" in sign else "!" + sign}
    yield {**form, "sign": sign[:40] + "\n" + sign[40:]}
    digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    for bit in (1, 2, 4, 8):  # the same signature bytes, non-canonically encoded
        yield {**form, "sign": sign[:-3] + digits[digits.index(sign[-3]) ^ bit] + "=="}
    yield {**form, "sign": rsa2_sign(key_pair("intruder")[0], signing_string(form, request=False))}
    yield {**form, "sign": rsa2_sign(key_pair("app")[0], signing_string(form, request=False))}
    for sign_type in ("RSA", "rsa2", "RSA2 ", "", "SM2", "HMAC-SHA256"):
        yield {**form, "sign_type": sign_type}
    for amount in ("198.01", "1.98", "19800", "198.0", "0198.00", "-198.00", "198,00", "1e2", "198.00 "):
        yield {**form, "total_amount": amount}
    for key in ("out_trade_no", "trade_no", "notify_id", "app_id", "seller_id", "notify_time", "gmt_payment"):
        yield {**form, key: form[key][:-1] + ("1" if form[key][-1] != "1" else "2")}


def _encoding_mutations(rng: random.Random, body: bytes) -> Iterator[bytes]:
    """Bodies that are not a strict UTF-8 form of the same parameters."""
    text = body.decode("ascii")
    yield b""
    yield body + b"&"
    yield b"&" + body
    yield body.replace(b"&", b";", 1)
    yield body.replace(b"&", b"&&", 1)
    yield body + b"&%ZZ=1"
    yield body.replace(b"%", b"%G", 1)
    yield body.replace(b"%E4", b"%FF", 1)
    yield body[: len(body) // 2]
    yield body.replace(b"subject=", b"subject=\xe4\xb8\xad", 1)
    yield "\ufeff".encode() + body
    yield body.replace(b"%", b"%25", 1)
    yield body.replace(b"+", b"%2B", 1)
    yield body.replace(b"=", b"", 1)
    yield body + b"&" + b"x=" + b"1" * (17 * 1024)
    for _ in range(40):
        pos = rng.randrange(len(body))
        flipped = bytearray(body)
        flipped[pos] ^= 1 << rng.randrange(7)
        yield bytes(flipped)
    assert text


def _signed_mutations(stub: AlipayStub, form: dict[str, str]) -> Iterator[dict[str, str]]:
    """Semantic mutations carrying Alipay's own signature: other app or seller, stale, malformed, replayed id."""
    base = {k: v for k, v in form.items() if k not in ("sign", "sign_type")}
    now = stub.clock.now()
    for change in ({"app_id": "2021000999999999"}, {"seller_id": "2088000000000001"},
                   {"notify_time": beijing(now + timedelta(seconds=301))},
                   {"notify_time": beijing(now - timedelta(seconds=301))},
                   {"notify_time": beijing(now - timedelta(days=1))}, {"notify_time": "2026-01-05"},
                   {"total_amount": "198.001"}, {"total_amount": "0"}, {"total_amount": "-1"},
                   {"trade_status": "WAIT_BUYER_PAY"}, {"trade_status": "trade_success"},
                   {"out_trade_no": "x"}, {"trade_no": ""}, {"notify_type": "trade_status"},
                   {"charset": "GBK"}, {"version": "2.0"}, {"gmt_payment": "yesterday"},
                   {"buyer_logon_id": "138****0000"}, {"receipt_amount": "abc"}):
        yield _resign(stub, {**base, **change})
    without = dict(base)
    for key in ("app_id", "seller_id", "notify_id", "notify_time", "total_amount", "out_trade_no", "trade_status"):
        yield _resign(stub, {k: v for k, v in without.items() if k != key})


def test_every_mutated_notification_is_refused(stub: AlipayStub, gateway: RecordingGateway) -> None:
    gateway.create_payment(request(method=PaymentMethod.ALIPAY))
    headers, body = open_and_pay(stub, gateway, ORDER)
    original = gateway.parse_callback(headers, body)
    assert gateway.distinct_notices == 1
    form = form_of(body)
    rng = random.Random(20260105)
    cases: list[bytes] = []
    for _ in range(12):
        for mutated in _unsigned_mutations(rng, form):
            cases.append(mutated if isinstance(mutated, bytes) else body_of(mutated))
        cases.extend(_encoding_mutations(rng, body))
    cases.extend(body_of(m) for m in _signed_mutations(stub, form))
    codes: dict[str, int] = {}
    checked = 0
    for case in cases:
        try:
            decoded = dict(parse_qsl(case.decode("ascii"), keep_blank_values=True, strict_parsing=True))
            if decoded == form and case.count(b"&") == body.count(b"&"):
                continue  # re-encoded without change: the same notification, not a mutation
        except (UnicodeDecodeError, ValueError):
            pass
        with pytest.raises(PaymentError) as caught:
            gateway.parse_callback(headers, case)
        codes[caught.value.code] = codes.get(caught.value.code, 0) + 1
        checked += 1
    assert checked >= 2000
    assert gateway.distinct_notices == 1
    assert gateway.parse_callback(headers, body) == original
    assert set(codes) <= {"payment.signature", "payment.malformed", "payment.mismatch", "payment.stale",
                          "payment.replay"}
    assert {"payment.signature", "payment.malformed", "payment.mismatch", "payment.stale",
            "payment.replay"} <= set(codes), codes


def test_signed_mutations_of_a_fresh_notification_are_refused_without_replay_memory(
    stub: AlipayStub, gateway: RecordingGateway
) -> None:
    """The same semantic mutations on a gateway that never saw the notification (no replay memory to lean on)."""
    gateway.create_payment(request(method=PaymentMethod.ALIPAY))
    _, body = open_and_pay(stub, gateway, ORDER)
    refused: Callable[[bytes], bool] = lambda case: _refused(gateway, case)  # noqa: E731
    signed = [m for m in _signed_mutations(stub, form_of(body)) if "buyer_logon_id" not in m or
              m["buyer_logon_id"] != "138****0000"]
    assert all(refused(body_of(m)) for m in signed)
    assert gateway.distinct_notices == 0


def _refused(gateway: RecordingGateway, body: bytes) -> bool:
    try:
        gateway.parse_callback({}, body)
    except PaymentError:
        return True
    return False


def test_mutations_are_refused_when_stale_notifications_are_confirmed_by_query(
    stub: AlipayStub, clock: FixedClock
) -> None:
    """With ``confirm_stale_by_query`` a day-old notification goes to trade.query -- but only once authentic."""
    gateway = gateway_for(stub, clock, confirm_stale_by_query=True)
    gateway.create_payment(request(method=PaymentMethod.ALIPAY))
    headers, body = open_and_pay(stub, gateway, ORDER)
    clock.advance(timedelta(days=1))
    form = form_of(body)
    rng = random.Random(7)
    cases = [m if isinstance(m, bytes) else body_of(m) for _ in range(3) for m in _unsigned_mutations(rng, form)]
    cases += list(_encoding_mutations(rng, body))
    queries = len(stub.requests)
    refused = [case for case in cases if form_of_or_none(case) != form and _refused(gateway, case)]
    assert len(refused) == len([case for case in cases if form_of_or_none(case) != form]) > 500
    assert len(stub.requests) == queries  # nothing unauthenticated reached Alipay
    assert gateway.parse_callback(headers, body).status is PaymentStatus.PAID  # the authentic one is confirmed
    assert len(stub.requests) == queries + 1


def form_of_or_none(case: bytes) -> dict[str, str] | None:
    try:
        return dict(parse_qsl(case.decode("ascii"), keep_blank_values=True, strict_parsing=True))
    except (UnicodeDecodeError, ValueError):
        return None
