"""The deterministic sandbox payment gateway: the shared contract plus sandbox-only behaviour."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pendulum
import pytest

from massage_core.adapters.memory.clock import FixedClock
from massage_core.adapters.memory.payments import (
    NONCE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SandboxPaymentGateway,
)
from massage_core.domain.errors import InvalidTransition, NotFound, ValidationError
from massage_core.domain.money import Money
from massage_core.domain.payments import (
    PaymentMethod,
    PaymentNotice,
    PaymentPayload,
    PaymentRecord,
    PaymentRequest,
    PaymentStatus,
    RefundRequest,
    RefundResult,
    RefundStatus,
)
from massage_core.ports.payments import PaymentGateway
from payment_contract import ORDER, OTHER_ORDER, PRICE, PaymentGatewayContract, payment_error, refund, request

SECRET = b"sandbox-secret-0123456789abcdef!"
START = pendulum.datetime(2026, 1, 5, 2, 0, tz="UTC")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def gateway(clock: FixedClock) -> SandboxPaymentGateway:
    return SandboxPaymentGateway(clock, secret=SECRET)


class TestSandboxContract(PaymentGatewayContract):
    """The sandbox keeps the contract every real gateway adapter will keep."""

    def pay(self, gateway: PaymentGateway, order_reference: str) -> tuple[Mapping[str, str], bytes]:
        assert isinstance(gateway, SandboxPaymentGateway)
        return gateway.simulate_payment(order_reference)


def body_of(**changes: Any) -> bytes:
    """A sandbox callback body for ORDER, paid, with ``changes`` applied (None removes a key)."""
    content: dict[str, Any] = {
        "amount": {"currency": "CNY", "total": PRICE.fen},
        "method": "wechat",
        "out_trade_no": ORDER,
        "paid_at": "2026-01-05T02:00:00+00:00",
        "status": "paid",
        "transaction_id": "sandbox-wechat-00000001",
    }
    for key, value in changes.items():
        if value is None:
            del content[key]
        else:
            content[key] = value
    return json.dumps(content, separators=(",", ":"), sort_keys=True).encode("utf-8")


# -- the wire format ---------------------------------------------------------


def test_callback_is_signed_over_timestamp_nonce_body(gateway: SandboxPaymentGateway) -> None:
    import hashlib
    import hmac

    gateway.create_payment(request())
    headers, body = gateway.simulate_payment(ORDER)
    assert headers[TIMESTAMP_HEADER] == str(int(START.timestamp()))
    message = f"{headers[TIMESTAMP_HEADER]}\n{headers[NONCE_HEADER]}\n".encode() + body + b"\n"
    expected = base64.b64encode(hmac.new(SECRET, message, hashlib.sha256).digest()).decode()
    assert headers[SIGNATURE_HEADER] == expected
    content = json.loads(body)
    assert content["amount"] == {"currency": "CNY", "total": 19800}
    assert (content["status"], content["out_trade_no"], content["method"]) == ("paid", ORDER, "wechat")


def test_gateway_is_deterministic_with_a_fixed_secret_and_clock() -> None:
    def run() -> tuple[object, ...]:
        gateway = SandboxPaymentGateway(FixedClock(START), secret=SECRET)
        payload = gateway.create_payment(request())
        callback = gateway.simulate_payment(ORDER)
        notice = gateway.parse_callback(*callback)
        result = gateway.refund(refund("rf-1", Money.yuan(10)))
        return payload, callback, notice, result

    assert run() == run()


def test_payload_kinds_per_method(gateway: SandboxPaymentGateway) -> None:
    wechat = gateway.create_payment(request())
    assert wechat.kind == "prepay" and set(wechat.as_dict()) == {"prepay_id", "timestamp", "nonce", "sign"}
    alipay = gateway.create_payment(request(OTHER_ORDER, method=PaymentMethod.ALIPAY))
    assert alipay.kind == "pay_url" and alipay.as_dict()["pay_url"].startswith("https://sandbox.invalid/alipay/")


def test_random_secret_when_none_given(clock: FixedClock) -> None:
    one, two = SandboxPaymentGateway(clock), SandboxPaymentGateway(clock)
    one.create_payment(request())
    two.create_payment(request())
    with payment_error("payment.signature"):
        two.parse_callback(*one.simulate_payment(ORDER))


@pytest.mark.parametrize("secret", [b"short", "text-secret-of-enough-length!!"])
def test_bad_secret_is_refused(clock: FixedClock, secret: object) -> None:
    with pytest.raises(ValidationError) as caught:
        SandboxPaymentGateway(clock, secret=secret)  # type: ignore[arg-type]
    assert caught.value.code == "payment.secret"


# -- simulation of outcomes ----------------------------------------------------


def test_failed_then_paid_and_closed_outcomes(gateway: SandboxPaymentGateway) -> None:
    gateway.create_payment(request())
    failed = gateway.parse_callback(*gateway.simulate_payment(ORDER, PaymentStatus.FAILED))
    assert failed.status is PaymentStatus.FAILED and failed.paid_at is None
    assert gateway.query(ORDER).status is PaymentStatus.FAILED
    assert gateway.create_payment(request()).order_reference == ORDER  # a failed attempt may be retried
    paid = gateway.parse_callback(*gateway.simulate_payment(ORDER))
    assert paid.status is PaymentStatus.PAID
    gateway.create_payment(request(OTHER_ORDER))
    closed = gateway.parse_callback(*gateway.simulate_payment(OTHER_ORDER, PaymentStatus.CLOSED))
    assert closed.status is PaymentStatus.CLOSED


def test_simulating_again_resends_the_same_content(gateway: SandboxPaymentGateway) -> None:
    gateway.create_payment(request())
    first_headers, first_body = gateway.simulate_payment(ORDER)
    again_headers, again_body = gateway.simulate_payment(ORDER)
    assert again_body == first_body and again_headers[NONCE_HEADER] != first_headers[NONCE_HEADER]
    assert gateway.parse_callback(first_headers, first_body) == gateway.parse_callback(again_headers, again_body)
    assert gateway.distinct_notices == 2


def test_simulation_follows_the_lifecycle(gateway: SandboxPaymentGateway) -> None:
    gateway.create_payment(request())
    gateway.simulate_payment(ORDER)
    with pytest.raises(InvalidTransition) as caught:
        gateway.simulate_payment(ORDER, PaymentStatus.CLOSED)
    assert (caught.value.state, caught.value.action, caught.value.allowed) == ("paid", "closed", ())
    with pytest.raises(NotFound):
        gateway.simulate_payment(OTHER_ORDER)
    with pytest.raises(ValidationError) as bad:
        gateway.simulate_payment(ORDER, PaymentStatus.PENDING)
    assert bad.value.code == "payment.status"


def test_closed_payment_cannot_be_paid(gateway: SandboxPaymentGateway) -> None:
    gateway.create_payment(request())
    gateway.close(ORDER)
    with pytest.raises(InvalidTransition):
        gateway.simulate_payment(ORDER)


# -- replay --------------------------------------------------------------------


def test_replay_is_accepted_but_counted_once(gateway: SandboxPaymentGateway) -> None:
    gateway.create_payment(request())
    callback = gateway.simulate_payment(ORDER)
    notices = {gateway.parse_callback(*callback) for _ in range(5)}
    assert len(notices) == 1
    assert gateway.distinct_notices == 1
    assert gateway.query(ORDER).status is PaymentStatus.PAID


def test_same_nonce_with_other_signed_content_is_refused(gateway: SandboxPaymentGateway) -> None:
    headers = gateway.sign_callback(body_of(), nonce="n0nce")
    gateway.parse_callback(headers, body_of())
    other = body_of(transaction_id="sandbox-wechat-00000099")
    with payment_error("payment.replay"):
        gateway.parse_callback(gateway.sign_callback(other, nonce="n0nce"), other)
    assert gateway.distinct_notices == 1


def test_replay_after_the_window_is_stale(gateway: SandboxPaymentGateway, clock: FixedClock) -> None:
    gateway.create_payment(request())
    callback = gateway.simulate_payment(ORDER)
    gateway.parse_callback(*callback)
    clock.advance(timedelta(minutes=6))
    with payment_error("payment.stale"):
        gateway.parse_callback(*callback)


def test_parse_callback_changes_no_ledger(gateway: SandboxPaymentGateway) -> None:
    """A correctly signed notice for an order the sandbox never saw is returned as signed (checks are the order's)."""
    body = body_of(out_trade_no=OTHER_ORDER, amount={"currency": "CNY", "total": 1})
    notice = gateway.parse_callback(gateway.sign_callback(body), body)
    assert (notice.order_reference, notice.amount) == (OTHER_ORDER, Money(1))
    with pytest.raises(NotFound):
        gateway.query(OTHER_ORDER)


# -- malformed callbacks ---------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe",
        b"[]",
        body_of(status=None),
        body_of(extra="x"),
        body_of(amount={"currency": "CNY", "total": "19800"}),
        body_of(amount={"currency": "CNY", "total": 0}),
        body_of(amount={"currency": "CNY", "total": -5}),
        body_of(amount={"currency": "USD", "total": 100}),
        body_of(amount={"total": 100}),
        body_of(amount=19800),
        body_of(method="paypal"),
        body_of(status="pending"),
        body_of(status="refunded"),
        body_of(paid_at="yesterday"),
        body_of(paid_at="2026-01-05T02:00:00"),
        body_of(paid_at=12345),
        body_of(status="failed"),
        body_of(out_trade_no="bad ref"),
        body_of(out_trade_no=12345678),
        body_of(transaction_id=""),
        body_of(transaction_id=["x"]),
    ],
)
def test_signed_but_malformed_body_is_refused(gateway: SandboxPaymentGateway, body: bytes) -> None:
    with payment_error("payment.malformed"):
        gateway.parse_callback(gateway.sign_callback(body), body)
    assert gateway.distinct_notices == 0


def test_paid_at_with_an_offset_is_read_as_utc(gateway: SandboxPaymentGateway) -> None:
    body = body_of(paid_at="2026-01-05T10:00:00+08:00")
    notice = gateway.parse_callback(gateway.sign_callback(body), body)
    assert notice.paid_at == START


def test_oversized_body_is_refused(gateway: SandboxPaymentGateway) -> None:
    body = b" " * (16 * 1024 + 1)
    with payment_error("payment.malformed"):
        gateway.parse_callback(gateway.sign_callback(body), body)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({TIMESTAMP_HEADER: None}, "payment.malformed"),
        ({TIMESTAMP_HEADER: "soon"}, "payment.malformed"),
        ({TIMESTAMP_HEADER: "-1"}, "payment.malformed"),
        ({TIMESTAMP_HEADER: "1" * 13}, "payment.malformed"),
        ({NONCE_HEADER: None}, "payment.malformed"),
        ({NONCE_HEADER: ""}, "payment.malformed"),
        ({NONCE_HEADER: "has space"}, "payment.malformed"),
        ({NONCE_HEADER: "x" * 65}, "payment.malformed"),
        ({SIGNATURE_HEADER: None}, "payment.signature"),
        ({SIGNATURE_HEADER: ""}, "payment.signature"),
        ({SIGNATURE_HEADER: "not base64!"}, "payment.signature"),
        ({SIGNATURE_HEADER: "签名"}, "payment.signature"),
        ({SIGNATURE_HEADER: base64.b64encode(b"short").decode()}, "payment.signature"),
    ],
)
def test_bad_headers_are_refused(
    gateway: SandboxPaymentGateway, change: dict[str, str | None], code: str
) -> None:
    headers: dict[str, str] = dict(gateway.sign_callback(body_of()))
    for name, value in change.items():
        if value is None:
            del headers[name]
        else:
            headers[name] = value
    with payment_error(code):
        gateway.parse_callback(headers, body_of())


def test_conflicting_duplicate_headers_are_refused(gateway: SandboxPaymentGateway) -> None:
    headers = gateway.sign_callback(body_of())
    doubled = {**headers, NONCE_HEADER.lower(): "another"}
    with payment_error("payment.malformed"):
        gateway.parse_callback(doubled, body_of())
    same = {**headers, NONCE_HEADER.upper(): headers[NONCE_HEADER]}
    assert gateway.parse_callback(same, body_of()).order_reference == ORDER


@pytest.mark.parametrize("headers", [None, [("a", "b")], {"a": 1}, {1: "a"}])
def test_headers_of_the_wrong_type_are_refused(gateway: SandboxPaymentGateway, headers: object) -> None:
    with payment_error("payment.malformed"):
        gateway.parse_callback(headers, body_of())  # type: ignore[arg-type]


def test_body_of_the_wrong_type_is_refused(gateway: SandboxPaymentGateway) -> None:
    headers = gateway.sign_callback(body_of())
    with payment_error("payment.malformed"):
        gateway.parse_callback(headers, body_of().decode())  # type: ignore[arg-type]


def test_timestamp_from_the_future_is_stale(gateway: SandboxPaymentGateway) -> None:
    ahead = int(START.timestamp()) + 301
    with payment_error("payment.stale"):
        gateway.parse_callback(gateway.sign_callback(body_of(), timestamp=ahead), body_of())
    assert gateway.parse_callback(gateway.sign_callback(body_of(), timestamp=ahead - 1), body_of())


# -- value objects: bad inputs with stable codes -----------------------------------


def bad(code: str, make: Any, **kwargs: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        make(**kwargs)
    assert caught.value.code == code, caught.value


REQUEST: dict[str, Any] = {"order_reference": ORDER, "amount": PRICE, "method": PaymentMethod.WECHAT, "description": "Massage"}
REFUND: dict[str, Any] = {"order_reference": ORDER, "out_refund_no": "rf-1", "amount": Money(1), "payment_total": PRICE,
          "reason": "cancelled"}


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"order_reference": "short"}, "payment.order_reference"),
        ({"order_reference": "x" * 33}, "payment.order_reference"),
        ({"order_reference": "ord 01"}, "payment.order_reference"),
        ({"order_reference": "订单号码一二三"}, "payment.order_reference"),
        ({"order_reference": None}, "payment.order_reference"),
        ({"amount": Money.zero()}, "payment.amount"),
        ({"amount": Money(-1)}, "payment.amount"),
        ({"amount": 19800}, "payment.amount"),
        ({"method": "wechat"}, "payment.method"),
        ({"description": ""}, "payment.description"),
        ({"description": " padded "}, "payment.description"),
        ({"description": "x" * 128}, "payment.description"),
        ({"description": "line\nbreak"}, "payment.description"),
        ({"payer": ""}, "payment.payer"),
        ({"expires_at": pendulum.naive(2026, 1, 5)}, "time.naive"),
        ({"expires_at": "tomorrow"}, "payment.time"),
    ],
)
def test_bad_payment_request(change: dict[str, Any], code: str) -> None:
    bad(code, PaymentRequest, **{**REQUEST, **change})


def test_payment_request_normalises_expiry_to_utc() -> None:
    shanghai = pendulum.datetime(2026, 1, 5, 10, 15, tz="Asia/Shanghai")
    made = PaymentRequest(**REQUEST, payer="oWx_openid", expires_at=shanghai)
    assert made.expires_at == shanghai and made.expires_at is not None
    assert made.expires_at.timezone_name == "UTC"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"out_refund_no": ""}, "payment.refund_number"),
        ({"out_refund_no": "r" * 65}, "payment.refund_number"),
        ({"out_refund_no": "rf 1"}, "payment.refund_number"),
        ({"amount": Money.zero()}, "payment.amount"),
        ({"payment_total": Money(-1)}, "payment.amount"),
        ({"amount": Money.yuan(199)}, "payment.amount"),
        ({"reason": ""}, "payment.reason"),
        ({"reason": "x" * 81}, "payment.reason"),
        ({"order_reference": "nope"}, "payment.order_reference"),
    ],
)
def test_bad_refund_request(change: dict[str, Any], code: str) -> None:
    bad(code, RefundRequest, **{**REFUND, **change})


def test_bad_notice_record_payload_and_result() -> None:
    notice: dict[str, Any] = {"method": PaymentMethod.WECHAT, "provider_transaction_id": "t1", "order_reference": ORDER,
              "amount": PRICE, "status": PaymentStatus.PAID, "paid_at": START}
    bad("payment.status", PaymentNotice, **{**notice, "status": PaymentStatus.PENDING})
    bad("payment.paid_at", PaymentNotice, **{**notice, "paid_at": None})
    bad("payment.paid_at", PaymentNotice, **{**notice, "status": PaymentStatus.CLOSED})
    bad("payment.transaction_id", PaymentNotice, **{**notice, "provider_transaction_id": ""})
    record: dict[str, Any] = {"order_reference": ORDER, "method": PaymentMethod.ALIPAY, "amount": PRICE,
              "status": PaymentStatus.PAID, "refunded": Money.zero()}
    assert PaymentRecord(**record).refundable == PRICE
    assert PaymentRecord(**{**record, "status": PaymentStatus.CLOSED}).refundable == Money.zero()
    bad("payment.amount", PaymentRecord, **{**record, "refunded": Money.yuan(199)})
    bad("payment.amount", PaymentRecord, **{**record, "refunded": Money(-1)})
    bad("payment.status", PaymentRecord, **{**record, "status": "paid"})
    payload: dict[str, Any] = {"order_reference": ORDER, "method": PaymentMethod.WECHAT, "amount": PRICE, "kind": "prepay",
               "params": {"b": "2", "a": "1"}}
    assert PaymentPayload(**payload).params == (("a", "1"), ("b", "2"))
    bad("payment.params", PaymentPayload, **{**payload, "params": {"a": 1}})
    bad("payment.params", PaymentPayload, **{**payload, "params": "a=1"})
    bad("payment.kind", PaymentPayload, **{**payload, "kind": ""})
    result: dict[str, Any] = {"order_reference": ORDER, "out_refund_no": "rf-1", "provider_refund_id": "r1", "amount": PRICE,
              "status": RefundStatus.SUCCEEDED, "refunded_total": PRICE, "created_at": START}
    bad("payment.refund_status", RefundResult, **{**result, "status": "succeeded"})
    bad("payment.time", RefundResult, **{**result, "created_at": None})
    bad("payment.amount", RefundResult, **{**result, "refunded_total": Money(-1)})


def test_gateway_refuses_objects_of_the_wrong_type(gateway: SandboxPaymentGateway) -> None:
    for call in (gateway.create_payment, gateway.refund):
        with pytest.raises(ValidationError) as caught:
            call({"order_reference": ORDER})  # type: ignore[arg-type]
        assert caught.value.code == "payment.request"
    with pytest.raises(NotFound):
        gateway.query(12345)  # type: ignore[arg-type]


def test_concurrent_refund_retries_and_callback_deliveries_take_effect_once(gateway: SandboxPaymentGateway) -> None:
    from concurrent.futures import ThreadPoolExecutor

    gateway.create_payment(request())
    callback = gateway.simulate_payment(ORDER)
    with ThreadPoolExecutor(max_workers=8) as pool:
        notices = set(pool.map(lambda _: gateway.parse_callback(*callback), range(20)))
        results = set(pool.map(lambda _: gateway.refund(refund("rf-1", Money.yuan(50))), range(20)))
    assert len(notices) == 1 and gateway.distinct_notices == 1
    assert len(results) == 1 and gateway.query(ORDER).refunded == Money.yuan(50)
