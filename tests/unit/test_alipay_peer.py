"""Cross-checks with the public SDK ``python-alipay-sdk`` (import ``alipay``; pycryptodome inside) as an independent peer.

The SDK is used in tests only.  It signs and verifies with its own RSA code,
so agreement here means our RSA2 strings and signatures are Alipay's, not
merely consistent with themselves:

- the SDK and the adapter produce the same signature for the same request
  (PKCS#1 v1.5 is deterministic);
- the SDK signs the order strings the adapter hands to the client identically;
- the SDK verifies the notifications the stub signs the way Alipay does, and
  the adapter accepts notifications the SDK signs;
- the SDK, as a client of the stub, gets the same answers as the adapter
  (the stub checks its request signatures; the SDK checks the stub's).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

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
from alipay_stub import APP_ID, AlipayStub, key_pair
from massage_core.adapters.alipay.client import AlipayClient
from massage_core.adapters.alipay.transport import UrllibTransport
from massage_core.adapters.memory.clock import FixedClock
from massage_core.domain.money import Money
from massage_core.domain.payments import PaymentMethod, PaymentStatus
from payment_contract import ORDER, payment_error, refund, request

alipay_sdk = pytest.importorskip("alipay")


def sdk(app_private_pem: str, alipay_public_pem: str, url: str | None = None) -> object:
    client = alipay_sdk.AliPay(appid=APP_ID, app_notify_url=None, app_private_key_string=app_private_pem,
                               alipay_public_key_string=alipay_public_pem, sign_type="RSA2")
    if url is not None:
        client._gateway = url  # the SDK has no setting for a custom gateway
    return client


@pytest.fixture
def gateway(stub: AlipayStub, clock: FixedClock) -> RecordingGateway:
    return gateway_for(stub, clock)


def test_sdk_and_adapter_sign_a_request_identically(stub: AlipayStub, gateway: RecordingGateway,
                                                   clock: FixedClock) -> None:
    ours = AlipayClient(gateway_for(stub, clock)._client._config, clock, UrllibTransport()).signed(
        "alipay.trade.refund", {"out_trade_no": ORDER, "refund_amount": "98.50", "out_request_no": "rf-1",
                                "refund_reason": "上门取消"})
    theirs = sdk(stub.app_private_pem, stub.alipay_public_pem)
    signed = dict(parse_qsl(theirs.sign_data({k: v for k, v in ours.items() if k != "sign"})))  # type: ignore[attr-defined]
    assert signed["sign"] == ours["sign"]


def test_sdk_signs_our_order_strings_identically(stub: AlipayStub, gateway: RecordingGateway) -> None:
    """The client SDK string: the peer, given the same parameters, produces the same signature and encoding."""
    payload = gateway.create_payment(request(method=PaymentMethod.ALIPAY))
    order_string = payload.as_dict()["order_string"]
    params = dict(parse_qsl(order_string, strict_parsing=True))
    ours = params.pop("sign")
    theirs = sdk(stub.app_private_pem, stub.alipay_public_pem).sign_data(dict(params))  # type: ignore[attr-defined]
    assert dict(parse_qsl(theirs))["sign"] == ours
    assert theirs == order_string  # sorted, quote_plus-encoded, sign last
    peer = sdk(stub.app_private_pem, stub.alipay_public_pem)
    assert not peer.verify(dict(params), ours)  # type: ignore[attr-defined] # requests cover sign_type, notices not


def test_sdk_verifies_the_notifications_the_stub_signs(stub: AlipayStub, gateway: RecordingGateway) -> None:
    gateway.create_payment(request(method=PaymentMethod.ALIPAY))
    _, body = open_and_pay(stub, gateway, ORDER)
    peer = sdk(stub.app_private_pem, stub.alipay_public_pem)
    data = form_of(body)
    signature = data.pop("sign")
    assert peer.verify(dict(data), signature)  # type: ignore[attr-defined]
    data["total_amount"] = "1.98"
    assert not peer.verify(dict(data), signature)  # type: ignore[attr-defined]


def test_adapter_accepts_notifications_the_sdk_signs(stub: AlipayStub, gateway: RecordingGateway) -> None:
    gateway.create_payment(request(method=PaymentMethod.ALIPAY))
    headers, body = open_and_pay(stub, gateway, ORDER)
    form = {k: v for k, v in form_of(body).items() if k not in ("sign", "sign_type")}
    form["notify_id"] = "sdk-signed-0001"
    _, alipay_private_pem, _ = key_pair("alipay")
    as_alipay = sdk(alipay_private_pem, stub.alipay_public_pem)  # the SDK holding Alipay's key
    signed = dict(parse_qsl(as_alipay.sign_data(dict(form))))  # type: ignore[attr-defined]
    notice = gateway.parse_callback(headers, body_of({**signed, "sign_type": "RSA2"}))
    assert (notice.order_reference, notice.amount, notice.status) == (ORDER, Money.yuan(198), PaymentStatus.PAID)
    with payment_error("payment.signature"):
        gateway.parse_callback(headers, body_of({**signed, "sign_type": "RSA2", "subject": "other"}))


def test_sdk_as_a_client_of_the_stub_agrees_with_the_adapter(stub: AlipayStub, gateway: RecordingGateway) -> None:
    gateway.create_payment(request(method=PaymentMethod.ALIPAY))
    gateway.parse_callback(*open_and_pay(stub, gateway, ORDER))
    gateway.refund(refund("rf-1", Money.yuan(50)))
    peer = sdk(stub.app_private_pem, stub.alipay_public_pem, url=stub.url)
    answer = peer.api_alipay_trade_query(out_trade_no=ORDER)  # type: ignore[attr-defined]
    record = gateway.query(ORDER)
    assert (answer["trade_no"], answer["total_amount"]) == (record.provider_transaction_id, "198.00")
    repeat = peer.api_alipay_trade_refund("50.00", out_trade_no=ORDER, out_request_no="rf-1")  # type: ignore[attr-defined]
    assert (repeat["fund_change"], repeat["refund_fee"]) == ("N", "50.00")
    assert stub.refused_requests == [] and stub.trades[ORDER]["refunded"] == 5000


def test_sdk_refuses_what_the_adapter_refuses(stub: AlipayStub, gateway: RecordingGateway) -> None:
    peer = sdk(stub.app_private_pem, stub.alipay_public_pem, url=stub.url)
    gateway.create_payment(request(method=PaymentMethod.ALIPAY))
    gateway.parse_callback(*open_and_pay(stub, gateway, ORDER))
    stub.fail_next("reformatted")
    with pytest.raises(alipay_sdk.exceptions.AliPayValidationError):
        peer.api_alipay_trade_query(out_trade_no=ORDER)  # type: ignore[attr-defined]
    stub.fail_next("reformatted")
    with payment_error("payment.unavailable"):
        gateway.query(ORDER)
