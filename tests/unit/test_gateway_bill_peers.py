"""The public SDKs as independent peers for the bill endpoints of the stubs (decision 0035).

- ``wechatpayv3`` applies for the trade bill (GZIP, as it asks by default), verifies the stub's signed answer
  with its own code, downloads the file with its own Authorization (which the stub checks), and the gunzipped
  bill has the SHA-1 WeChat announced; the adapter reads the same rows from the same day.
- ``python-alipay-sdk`` asks ``alipay.data.dataservice.bill.downloadurl.query`` with its own RSA2 signature
  (which the stub checks) and verifies the stub's signed answer; the zip behind the URL reads to the lines the
  adapter reports.

The WeChat SDK reads the wall clock, so that test runs the stub and the adapter at the real current time.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import urllib.request
from collections.abc import Iterator

import pendulum
import pytest

from alipay_kit import clock, gateway_for, open_and_pay, stub  # noqa: F401 - fixtures
from alipay_stub import APP_ID, AlipayStub
from massage_core.adapters.alipay import bills as alipay_bills
from massage_core.adapters.memory.clock import FixedClock
from massage_core.adapters.wechatpay import WeChatPayGateway
from massage_core.adapters.wechatpay import bills as wechat_bills
from massage_core.domain.money import Money
from massage_core.domain.payments import PaymentMethod, PaymentRequest, RefundRequest
from wechatpay_kit import APIV3_KEY, APPID, MCHID, MERCHANT_SERIAL, NOTIFY_URL, OPENID, PUBLIC_KEY_ID, config, keys
from wechatpay_kit import make_stub
from wechatpay_stub import WeChatPayStub


@pytest.fixture
def now_clock() -> FixedClock:
    return FixedClock(pendulum.now("UTC").replace(microsecond=0))


@pytest.fixture
def live_stub(now_clock: FixedClock) -> Iterator[WeChatPayStub]:
    with make_stub(now_clock).serving() as running:
        yield running


def test_the_wechat_sdk_downloads_the_bill_the_adapter_reads(now_clock: FixedClock,
                                                             live_stub: WeChatPayStub) -> None:
    wechatpayv3 = pytest.importorskip("wechatpayv3")
    made = keys()
    sdk = wechatpayv3.WeChatPay(wechatpay_type=wechatpayv3.WeChatPayType.JSAPI, mchid=MCHID,
                                private_key=made.merchant_pem.decode(), cert_serial_no=MERCHANT_SERIAL, appid=APPID,
                                apiv3_key=APIV3_KEY.decode(), notify_url=NOTIFY_URL,
                                public_key=made.platform_public_pem.decode(), public_key_id=PUBLIC_KEY_ID,
                                timeout=(2, 2))
    sdk._core._gate_way = live_stub.url  # the SDK's base URL; nothing leaves 127.0.0.1
    adapter = WeChatPayGateway(config(live_stub.url), now_clock)
    adapter.create_payment(PaymentRequest("order-peer-0001", Money(25_800), PaymentMethod.WECHAT, "推拿",
                                          payer=OPENID))
    live_stub.pay("order-peer-0001")
    adapter.refund(RefundRequest("order-peer-0001", "order-peer-0001-r1", Money(3_333), Money(25_800), "部分"))
    day = now_clock.now().in_timezone("Asia/Shanghai").date()

    status, text = sdk.trade_bill(day.isoformat())  # raises when the stub's answer does not verify
    assert status == 200
    answer = json.loads(text)
    status, data = sdk.download_bill(answer["download_url"])
    assert status == 200 and data[:2] == b"\x1f\x8b"  # GZIP as the SDK asked
    bill = gzip.decompress(data)
    assert answer["hash_type"] == "SHA1" and hashlib.sha1(bill).hexdigest() == answer["hash_value"]
    theirs = wechat_bills.read_bill(bill, MCHID)
    ours = adapter.statement(day)
    assert list(ours) == theirs and [(ln.business_key, ln.amount.fen) for ln in ours] == [
        ("order:order-peer-0001:captured", 25_800), ("refund:order-peer-0001-r1", 3_333)]


def test_the_alipay_sdk_asks_for_the_bill_the_adapter_reads(stub: AlipayStub, clock: FixedClock) -> None:
    alipay_sdk = pytest.importorskip("alipay")
    gateway = gateway_for(stub, clock)
    gateway.create_payment(PaymentRequest("order-peer-0002", Money(19_900), PaymentMethod.ALIPAY, "精油"))
    open_and_pay(stub, gateway, "order-peer-0002")
    clock.advance(dt.timedelta(minutes=3))
    gateway.refund(RefundRequest("order-peer-0002", "order-peer-0002-r1", Money(9_950), Money(19_900), "一半"))
    sdk = alipay_sdk.AliPay(appid=APP_ID, app_notify_url=None, app_private_key_string=stub.app_private_pem,
                            alipay_public_key_string=stub.alipay_public_pem, sign_type="RSA2")
    sdk._gateway = stub.url  # the SDK has no setting for a custom gateway

    answer = sdk.server_api(alipay_bills.METHOD, {"bill_type": "trade", "bill_date": "2026-01-05"})
    assert answer["code"] == "10000"
    assert stub.requests[-1]["method"] == alipay_bills.METHOD  # the stub accepted the SDK's signature
    with urllib.request.urlopen(answer["bill_download_url"], timeout=2) as response:  # noqa: S310 - loopback
        theirs = alipay_bills.read_detail(alipay_bills.detail_csv(response.read()))
    ours = gateway.statement(dt.date(2026, 1, 5))
    assert list(ours) == theirs and [(ln.business_key, ln.amount.fen) for ln in ours] == [
        ("order:order-peer-0002:captured", 19_900), ("refund:order-peer-0002-r1", 9_950)]
