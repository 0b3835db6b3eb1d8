"""The WeChat Pay API v3 adapter against a local stub of WeChat Pay: the shared contract and the wire format."""

from __future__ import annotations

import base64
import json
import re
import socket
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pendulum
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from massage_core.adapters.memory.clock import FixedClock
from massage_core.adapters.wechatpay import StdlibTransport, WeChatPayConfig, WeChatPayGateway
from massage_core.domain.errors import Conflict, NotFound, ValidationError
from massage_core.domain.money import Money
from massage_core.domain.payments import PaymentMethod, PaymentRequest, PaymentStatus, RefundStatus
from massage_core.ports.payments import PaymentGateway
from payment_contract import ORDER, OTHER_ORDER, PRICE, PaymentGatewayContract, payment_error, refund, request
from wechatpay_kit import (  # noqa: F401  (fixtures)
    APP_APPID,
    APPID,
    MCHID,
    MERCHANT_SERIAL,
    NOTIFY_URL,
    OPENID,
    PUBLIC_KEY_ID,
    START,
    certificate,
    clock,
    config,
    gateway,
    keys,
    stub,
)
from wechatpay_stub import WeChatPayStub

_AUTH = re.compile(
    r'^WECHATPAY2-SHA256-RSA2048 mchid="(\d+)",nonce_str="([0-9A-F]{32})",signature="([^"]+)",'
    r'timestamp="(\d+)",serial_no="([0-9A-F]+)"$'
)


class TestWeChatPayContract(PaymentGatewayContract):
    """The adapter, talking HTTP to the stub, keeps the contract the sandbox keeps."""

    @pytest.fixture(autouse=True)
    def _stub(self, stub: WeChatPayStub) -> None:
        self.stub = stub

    def pay(self, gateway: PaymentGateway, order_reference: str) -> tuple[Mapping[str, str], bytes]:
        return self.stub.pay(order_reference)


def jsapi(order: str = ORDER, amount: Money = PRICE, **changes: Any) -> PaymentRequest:
    return PaymentRequest(order_reference=order, amount=amount, method=PaymentMethod.WECHAT,
                          description="Swedish massage 60 min", payer=changes.pop("payer", OPENID), **changes)


def verifies(pem_key: Any, message: bytes, signature: str) -> bool:
    try:
        pem_key.verify(base64.b64decode(signature), message, padding.PKCS1v15(), hashes.SHA256())
    except Exception:
        return False
    return True


# -- requests: signed, shaped as WeChat documents them -------------------------


def test_every_request_is_signed_over_method_url_timestamp_nonce_body(
    gateway: WeChatPayGateway, stub: WeChatPayStub
) -> None:
    gateway.create_payment(jsapi(expires_at=START + timedelta(minutes=30)))
    gateway.query(ORDER)
    stub.pay(ORDER)
    gateway.refund(refund("rf-1", Money.yuan(10)))
    seen = {(method, target.split("?")[0].rsplit("/", 1)[-1]) for method, target, _, _ in stub.requests}
    assert seen == {("POST", "jsapi"), ("GET", ORDER), ("POST", "refunds")}
    nonces = set()
    for method, target, headers, body in stub.requests:
        found = _AUTH.match(headers["Authorization"])
        assert found, headers["Authorization"]
        mchid, nonce, signature, stamp, serial = found.groups()
        assert (mchid, serial, int(stamp)) == (MCHID, MERCHANT_SERIAL, int(START.timestamp()))
        message = f"{method}\n{target}\n{stamp}\n{nonce}\n".encode() + body + b"\n"
        assert verifies(keys().merchant.public_key(), message, signature)
        nonces.add(nonce)
    assert len(nonces) == len(stub.requests)
    create = json.loads(stub.requests[0][3])
    assert create == {
        "appid": APPID, "mchid": MCHID, "description": "Swedish massage 60 min", "out_trade_no": ORDER,
        "notify_url": NOTIFY_URL, "amount": {"total": 19800, "currency": "CNY"}, "payer": {"openid": OPENID},
        "time_expire": "2026-01-05T10:30:00+08:00",
    }
    assert stub.requests[1][1] == f"/v3/pay/transactions/out-trade-no/{ORDER}?mchid={MCHID}"
    assert json.loads(stub.requests[-1][3]) == {
        "out_trade_no": ORDER, "out_refund_no": "rf-1", "reason": "cancelled",
        "amount": {"refund": 1000, "total": 19800, "currency": "CNY"},
    }


def test_jsapi_payload_is_signed_for_the_client(gateway: WeChatPayGateway, stub: WeChatPayStub) -> None:
    payload = gateway.create_payment(jsapi())
    params = payload.as_dict()
    assert payload.kind == "prepay" and set(params) == {"appId", "timeStamp", "nonceStr", "package", "signType",
                                                        "paySign"}
    prepay_id = stub.orders[ORDER]["prepay_id"]
    assert (params["appId"], params["package"], params["signType"]) == (APPID, f"prepay_id={prepay_id}", "RSA")
    assert params["timeStamp"] == str(int(START.timestamp())) and re.fullmatch(r"[0-9A-F]{32}", params["nonceStr"])
    message = f"{APPID}\n{params['timeStamp']}\n{params['nonceStr']}\nprepay_id={prepay_id}\n".encode()
    assert verifies(keys().merchant.public_key(), message, params["paySign"])


def test_app_payload_without_payer(gateway: WeChatPayGateway, stub: WeChatPayStub) -> None:
    params = gateway.create_payment(request()).as_dict()
    prepay_id = stub.orders[ORDER]["prepay_id"]
    assert stub.requests[0][1] == "/v3/pay/transactions/app"
    assert (params["appid"], params["partnerid"], params["prepayid"], params["package"]) == (
        APP_APPID, MCHID, prepay_id, "Sign=WXPay")
    message = f"{APP_APPID}\n{params['timestamp']}\n{params['noncestr']}\n{prepay_id}\n".encode()
    assert verifies(keys().merchant.public_key(), message, params["sign"])


def test_payload_nonce_changes_with_time(gateway: WeChatPayGateway, clock: FixedClock) -> None:
    first = gateway.create_payment(jsapi()).as_dict()
    clock.advance(timedelta(seconds=1))
    again = gateway.create_payment(jsapi()).as_dict()
    assert again["package"] == first["package"] and again["nonceStr"] != first["nonceStr"]


def test_other_payer_conflicts_and_paid_order_cannot_be_reopened(
    gateway: WeChatPayGateway, stub: WeChatPayStub
) -> None:
    gateway.create_payment(jsapi())
    with pytest.raises(Conflict) as caught:
        gateway.create_payment(jsapi(payer="oOtherOpenid"))
    assert caught.value.code == "payment.conflict"
    gateway.parse_callback(*stub.pay(ORDER))
    with pytest.raises(Conflict) as paid:
        gateway.create_payment(jsapi())
    assert paid.value.code == "payment.already_paid"


def test_alipay_request_for_an_unknown_order_is_invalid(gateway: WeChatPayGateway) -> None:
    with pytest.raises(ValidationError) as caught:
        gateway.create_payment(request(method=PaymentMethod.ALIPAY))
    assert caught.value.code == "payment.method"


# -- answers: verified ------------------------------------------------------------


@pytest.mark.parametrize("fault", ["unsigned", "bad_signature", "unknown_serial", "stale", "tampered", "not_json",
                                   "http500", "hangup"])
def test_unverifiable_or_failed_answers_are_unavailable(
    gateway: WeChatPayGateway, stub: WeChatPayStub, fault: str
) -> None:
    stub.faults.append(fault)
    with payment_error("payment.unavailable"):
        gateway.create_payment(jsapi())
    assert gateway.create_payment(jsapi()).order_reference == ORDER  # a retry works once the fault is gone


def test_timeout_is_unavailable(clock: FixedClock, stub: WeChatPayStub) -> None:
    gateway = WeChatPayGateway(config(stub.url, timeout_seconds=0.1), clock)
    stub.faults.append("slow")
    with payment_error("payment.unavailable"):
        gateway.query(ORDER)


def test_unreachable_gateway_is_unavailable(clock: FixedClock) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gateway = WeChatPayGateway(config(f"http://127.0.0.1:{port}"), clock, StdlibTransport())
    with payment_error("payment.unavailable"):
        gateway.query(ORDER)


def test_answers_signed_with_the_platform_certificate_are_accepted(
    gateway: WeChatPayGateway, stub: WeChatPayStub
) -> None:
    stub.platform_serial = keys().platform_cert_serial
    assert gateway.create_payment(jsapi()).order_reference == ORDER


def test_a_refused_request_signature_is_not_retried_as_success(clock: FixedClock, stub: WeChatPayStub) -> None:
    wrong = WeChatPayGateway(config(stub.url, merchant_serial_no="00AA"), clock)
    with payment_error("payment.refused") as caught:
        wrong.create_payment(jsapi())
    assert "SIGN_ERROR" in str(caught.value)


# -- query, close, refunds: WeChat's states and errors mapped ------------------------


def test_query_maps_states(gateway: WeChatPayGateway, stub: WeChatPayStub) -> None:
    gateway.create_payment(jsapi())
    for state, status in [("USERPAYING", PaymentStatus.PENDING), ("PAYERROR", PaymentStatus.FAILED),
                          ("REVOKED", PaymentStatus.CLOSED), ("CLOSED", PaymentStatus.CLOSED)]:
        stub.orders[ORDER]["trade_state"] = state
        assert gateway.query(ORDER).status is status
    stub.orders[ORDER]["trade_state"] = "SOMETHING_NEW"
    with payment_error("payment.unavailable"):
        gateway.query(ORDER)


def test_query_answer_about_another_app_or_merchant_is_a_mismatch(
    gateway: WeChatPayGateway, stub: WeChatPayStub
) -> None:
    gateway.create_payment(jsapi())
    stub.orders[ORDER]["terms"]["appid"] = "wx0ther0ther0ther0"
    with payment_error("payment.mismatch"):
        gateway.query(ORDER)


def test_our_request_signed_for_another_merchant_is_refused(gateway: WeChatPayGateway, stub: WeChatPayStub) -> None:
    stub.mchid = "1900000999"
    with payment_error("payment.refused") as caught:
        gateway.query(ORDER)
    assert "SIGN_ERROR" in str(caught.value)


def test_close_then_reopen_is_refused_and_unknown_is_not_found(gateway: WeChatPayGateway) -> None:
    gateway.create_payment(jsapi())
    assert gateway.close(ORDER).status is PaymentStatus.CLOSED
    with pytest.raises(Conflict) as caught:
        gateway.create_payment(jsapi())
    assert caught.value.code == "payment.closed"
    with pytest.raises(NotFound):
        gateway.close(OTHER_ORDER)


def test_refund_processing_is_reported(gateway: WeChatPayGateway, stub: WeChatPayStub) -> None:
    gateway.create_payment(jsapi())
    gateway.parse_callback(*stub.pay(ORDER))
    stub.refund_status = "PROCESSING"
    result = gateway.refund(refund("rf-1", Money.yuan(10)))
    assert (result.status, result.refunded_total) == (RefundStatus.PROCESSING, Money.yuan(10))
    assert result.created_at == START and result.provider_refund_id == stub.refunds["rf-1"]["refund_id"]


def test_merchant_balance_not_enough_is_unavailable(gateway: WeChatPayGateway, stub: WeChatPayStub) -> None:
    gateway.create_payment(jsapi())
    gateway.parse_callback(*stub.pay(ORDER))
    stub.balance_fen = 100
    with payment_error("payment.unavailable"):
        gateway.refund(refund("rf-1", Money.yuan(10)))
    stub.balance_fen = None
    assert gateway.refund(refund("rf-1", Money.yuan(10))).refunded_total == Money.yuan(10)


def test_a_second_adapter_relies_on_wechat_for_refund_numbers_and_limits(
    clock: FixedClock, gateway: WeChatPayGateway, stub: WeChatPayStub
) -> None:
    """Another process (an empty refund book): WeChat's own answers still keep refunds safe."""
    gateway.create_payment(jsapi())
    gateway.parse_callback(*stub.pay(ORDER))
    first = gateway.refund(refund("rf-1", Money.yuan(150)))
    other = WeChatPayGateway(config(stub.url), clock)
    again = other.refund(refund("rf-1", Money.yuan(150)))
    assert (again.provider_refund_id, again.amount, again.created_at) == (
        first.provider_refund_id, first.amount, first.created_at)
    with pytest.raises(Conflict) as caught:
        other.refund(refund("rf-1", Money.yuan(10)))
    assert caught.value.code == "payment.refund_conflict"
    fresh = WeChatPayGateway(config(stub.url), clock)
    with payment_error("payment.refused"):
        fresh.refund(refund("rf-2", Money.yuan(60)))
    assert sum(r["amount"]["refund"] for r in stub.refunds.values()) == 15000


# -- configuration -------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"mchid": "abc"},
        {"appid": ""},
        {"apiv3_key": b"short"},
        {"apiv3_key": "x" * 33},
        {"merchant_private_key": b"not pem"},
        {"merchant_serial_no": "has space"},
        {"platform_keys": {}},
        {"platform_keys": {"bad serial!": b"-----BEGIN PUBLIC KEY-----"}},
        {"notify_url": "http://massage.example/notify"},
        {"notify_url": "https://massage.example/notify?x=1"},
        {"base_url": "http://api.example.com"},
        {"timeout_seconds": 0},
    ],
)
def test_bad_config_is_refused(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as caught:
        config(**change)
    assert caught.value.code == "payment.config"


def test_bad_keys_are_refused_when_the_gateway_starts(clock: FixedClock) -> None:
    made = keys()
    other_cert = certificate(made.platform, 0x1234, START - timedelta(days=1), START + timedelta(days=1))
    for change in (
        {"merchant_private_key": b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"},
        {"platform_keys": {"ABCD": other_cert}},  # a certificate under another serial
        {"platform_keys": {PUBLIC_KEY_ID: b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"}},
    ):
        with pytest.raises(ValidationError) as caught:
            WeChatPayGateway(config(**change), clock)
        assert caught.value.code == "payment.config"


def test_config_repr_hides_secrets() -> None:
    made = config()
    text = repr(made)
    assert MCHID in text and PUBLIC_KEY_ID in text
    assert "PRIVATE" not in text and made.apiv3_key.decode() not in text
    assert isinstance(made, WeChatPayConfig) and made.appids == {APPID, APP_APPID}


def test_expired_platform_certificate_is_not_trusted(clock: FixedClock, stub: WeChatPayStub) -> None:
    made = keys()
    serial = 0x77
    cert = certificate(made.platform, serial, START - timedelta(days=10), START - timedelta(days=1))
    gateway = WeChatPayGateway(config(stub.url, platform_keys={"77": cert}), clock)
    stub.platform_serial = "77"
    with payment_error("payment.unavailable"):
        gateway.create_payment(jsapi())
    headers, body = stub.notification({"out_trade_no": ORDER})
    with payment_error("payment.signature"):
        gateway.parse_callback(headers, body)
    clock.set(pendulum.datetime(2025, 12, 30, tz="UTC"))
    assert gateway.create_payment(jsapi()).order_reference == ORDER


def test_concurrent_refund_retries_take_effect_once(gateway: WeChatPayGateway, stub: WeChatPayStub) -> None:
    from concurrent.futures import ThreadPoolExecutor

    gateway.create_payment(jsapi())
    gateway.parse_callback(*stub.pay(ORDER))
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = set(pool.map(lambda _: gateway.refund(refund("rf-1", Money.yuan(50))), range(16)))
        records = set(pool.map(lambda _: gateway.query(ORDER).refunded, range(8)))
    assert len(results) == 1 and records == {Money.yuan(50)} and len(stub.refunds) == 1
