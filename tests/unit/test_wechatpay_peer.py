"""Cross-checks with the public WeChat Pay SDK ``wechatpayv3`` as an independent peer (tests only).

- The SDK, as a merchant client, talks to the stub: the stub accepts the
  SDK's Authorization and the SDK accepts the stub's signed answers, so the
  stub speaks the same dialect as the public SDK.
- The SDK verifies and decrypts the stub's notifications, and the adapter
  reads the same bytes to the same content.
- The adapter's request Authorization and client ``paySign`` equal what the
  SDK computes for the same message (SHA256withRSA PKCS#1 v1.5 is
  deterministic), and a notification signed by the SDK's signer is accepted.

The SDK reads the wall clock, so these tests run the stub and the adapter at
the real current time.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator

import pendulum
import pytest

wechatpayv3 = pytest.importorskip("wechatpayv3")
from wechatpayv3 import WeChatPay, WeChatPayType  # noqa: E402
from wechatpayv3 import utils as sdk_utils  # noqa: E402

from massage_core.adapters.memory.clock import FixedClock  # noqa: E402
from massage_core.adapters.wechatpay import WeChatPayGateway  # noqa: E402
from massage_core.domain.money import Money  # noqa: E402
from massage_core.domain.payments import PaymentMethod, PaymentRequest, PaymentStatus  # noqa: E402
from payment_contract import ORDER, OTHER_ORDER, PRICE, refund  # noqa: E402
from wechatpay_kit import (  # noqa: E402
    APIV3_KEY,
    APPID,
    MCHID,
    MERCHANT_SERIAL,
    NOTIFY_URL,
    OPENID,
    PUBLIC_KEY_ID,
    config,
    keys,
    make_stub,
)
from wechatpay_stub import WeChatPayStub  # noqa: E402


@pytest.fixture
def now_clock() -> FixedClock:
    return FixedClock(pendulum.now("UTC").replace(microsecond=0))


@pytest.fixture
def live_stub(now_clock: FixedClock) -> Iterator[WeChatPayStub]:
    with make_stub(now_clock).serving() as running:
        yield running


@pytest.fixture
def sdk(live_stub: WeChatPayStub) -> WeChatPay:
    made = keys()
    client = WeChatPay(wechatpay_type=WeChatPayType.JSAPI, mchid=MCHID, private_key=made.merchant_pem.decode(),
                       cert_serial_no=MERCHANT_SERIAL, appid=APPID, apiv3_key=APIV3_KEY.decode(),
                       notify_url=NOTIFY_URL, public_key=made.platform_public_pem.decode(),
                       public_key_id=PUBLIC_KEY_ID, timeout=(2, 2))
    client._core._gate_way = live_stub.url  # the SDK's base URL; nothing leaves 127.0.0.1
    return client


@pytest.fixture
def adapter(now_clock: FixedClock, live_stub: WeChatPayStub) -> WeChatPayGateway:
    return WeChatPayGateway(config(live_stub.url), now_clock)


def test_the_sdk_and_the_stub_understand_each_other(sdk: WeChatPay, live_stub: WeChatPayStub) -> None:
    code, answer = sdk.pay(description="Swedish massage 60 min", out_trade_no=ORDER, amount={"total": 19800},
                           payer={"openid": OPENID}, pay_type=WeChatPayType.JSAPI)
    assert code == 200 and json.loads(answer)["prepay_id"] == live_stub.orders[ORDER]["prepay_id"]
    code, answer = sdk.query(out_trade_no=ORDER)
    assert code == 200 and json.loads(answer)["trade_state"] == "NOTPAY"
    live_stub.pay(ORDER)
    code, answer = sdk.refund(out_refund_no="rf-1", amount={"refund": 100, "total": 19800, "currency": "CNY"},
                              out_trade_no=ORDER, reason="cancelled")
    assert code == 200 and json.loads(answer)["user_received_account"] == "支付用户零钱"
    code, answer = sdk.pay(description="x", out_trade_no=OTHER_ORDER, amount={"total": 1}, payer={"openid": OPENID},
                           pay_type=WeChatPayType.JSAPI)
    assert code == 200
    code, _ = sdk.close(out_trade_no=OTHER_ORDER)
    assert code == 204 and live_stub.orders[OTHER_ORDER]["trade_state"] == "CLOSED"


def test_the_sdk_and_the_adapter_read_the_same_notification(
    sdk: WeChatPay, adapter: WeChatPayGateway, live_stub: WeChatPayStub
) -> None:
    adapter.create_payment(PaymentRequest(order_reference=ORDER, amount=PRICE, method=PaymentMethod.WECHAT,
                                          description="Swedish massage 60 min", payer=OPENID))
    headers, body = live_stub.pay(ORDER)
    seen = sdk.callback(headers, body)
    assert seen is not None, "the SDK refused the stub's notification"
    resource = seen["resource"]
    notice = adapter.parse_callback(headers, body)
    assert (notice.order_reference, notice.provider_transaction_id, notice.amount.fen, notice.status) == (
        resource["out_trade_no"], resource["transaction_id"], resource["amount"]["total"], PaymentStatus.PAID)
    assert notice.paid_at == pendulum.parse(resource["success_time"])
    assert resource["appid"] == APPID and resource["mchid"] == MCHID
    tampered = body.replace(b'"summary"', b'"Summary"')
    assert sdk.callback(headers, tampered) is None  # the SDK refuses what the adapter refuses


def test_adapter_authorization_equals_the_sdks(
    adapter: WeChatPayGateway, live_stub: WeChatPayStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    adapter.create_payment(PaymentRequest(order_reference=ORDER, amount=PRICE, method=PaymentMethod.WECHAT,
                                          description="足疗 60 分钟", payer=OPENID))
    adapter.query(ORDER)
    live_stub.pay(ORDER)
    adapter.refund(refund("rf-1", Money.yuan(10)))
    merchant_key = sdk_utils.load_private_key(keys().merchant_pem.decode())
    assert len(live_stub.requests) == 4  # create, query, refund's query, refund
    for method, target, headers, body in live_stub.requests:
        ours = headers["Authorization"]
        fields = dict(part.split("=", 1) for part in ours.split(" ", 1)[1].split(","))
        stamp, nonce = int(fields["timestamp"].strip('"')), fields["nonce_str"].strip('"')
        monkeypatch.setattr(sdk_utils.time, "time", lambda: stamp)
        theirs = sdk_utils.build_authorization(target, method, MCHID, MERCHANT_SERIAL, merchant_key,
                                               data=body.decode() or None, nonce_str=nonce)
        assert ours == theirs


def test_adapter_pay_sign_equals_the_sdks(sdk: WeChatPay, adapter: WeChatPayGateway) -> None:
    params = adapter.create_payment(PaymentRequest(order_reference=ORDER, amount=PRICE, method=PaymentMethod.WECHAT,
                                                   description="Swedish massage 60 min", payer=OPENID)).as_dict()
    expected = sdk.sign([params["appId"], params["timeStamp"], params["nonceStr"], params["package"]])
    assert params["paySign"] == expected


def test_a_notification_signed_by_the_sdks_signer_is_accepted(
    adapter: WeChatPayGateway, live_stub: WeChatPayStub, now_clock: FixedClock
) -> None:
    adapter.create_payment(PaymentRequest(order_reference=ORDER, amount=PRICE, method=PaymentMethod.WECHAT,
                                          description="Swedish massage 60 min", payer=OPENID))
    _, body = live_stub.pay(ORDER)
    stamp, nonce = str(int(now_clock.now().timestamp())), secrets.token_hex(16)
    signature = sdk_utils.rsa_sign(keys().platform, f"{stamp}\n{nonce}\n{body.decode()}\n")
    headers = {"Wechatpay-Timestamp": stamp, "Wechatpay-Nonce": nonce, "Wechatpay-Signature": signature,
               "Wechatpay-Serial": PUBLIC_KEY_ID, "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048"}
    assert adapter.parse_callback(headers, body).order_reference == ORDER
    assert sdk_utils.rsa_verify(stamp, nonce, body.decode(), signature, keys().platform.public_key())
    assert abs(int(stamp) - time.time()) < 3600
