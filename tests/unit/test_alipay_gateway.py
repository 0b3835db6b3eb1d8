"""The Alipay adapter against a local Alipay stub: the shared contract, then Alipay-specific behaviour."""

from __future__ import annotations

import json
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import parse_qsl

import pytest

from alipay_kit import (
    NOTIFY_URL,
    START,
    RecordingGateway,
    body_of,
    clock,  # noqa: F401 - fixture
    config_for,
    form_of,
    gateway_for,
    open_and_pay,
    stub,  # noqa: F401 - fixture
)
from alipay_stub import APP_ID, AlipayStub, key_pair, rsa2_verify, signing_string
from massage_core.adapters.alipay import AlipayConfig, AlipayGateway, UrllibTransport
from massage_core.adapters.alipay.signing import response_members
from massage_core.adapters.alipay.wire import format_amount, parse_amount, parse_time
from massage_core.adapters.memory.clock import FixedClock
from massage_core.domain.errors import Conflict, NotFound, PaymentError, ValidationError
from massage_core.domain.money import Money
from massage_core.domain.payments import PaymentMethod, PaymentStatus, RefundStatus
from massage_core.ports.payments import PaymentGateway
from payment_contract import ORDER, OTHER_ORDER, PRICE, PaymentGatewayContract, payment_error, refund, request


@pytest.fixture
def gateway(stub: AlipayStub, clock: FixedClock) -> RecordingGateway:
    return gateway_for(stub, clock)


class TestAlipayContract(PaymentGatewayContract):
    """The adapter keeps the contract every gateway keeps (the stub plays Alipay and the buyer)."""

    method = PaymentMethod.ALIPAY

    @pytest.fixture(autouse=True)
    def _stub(self, stub: AlipayStub) -> None:
        self.stub = stub

    def pay(self, gateway: PaymentGateway, order_reference: str) -> tuple[Mapping[str, str], bytes]:
        assert isinstance(gateway, RecordingGateway)
        return open_and_pay(self.stub, gateway, order_reference)

    def with_wrong_signature(self, headers: Mapping[str, str], body: bytes) -> tuple[Mapping[str, str], bytes]:
        form = form_of(body)
        form["sign"] = ("A" if form["sign"][0] != "A" else "B") + form["sign"][1:]
        return headers, body_of(form)

    def without_signature(self, headers: Mapping[str, str], body: bytes) -> tuple[Mapping[str, str], bytes]:
        return headers, body_of({k: v for k, v in form_of(body).items() if k != "sign"})


def paid(stub: AlipayStub, gateway: RecordingGateway, order: str = ORDER) -> None:
    gateway.create_payment(request(order, method=PaymentMethod.ALIPAY))
    gateway.parse_callback(*open_and_pay(stub, gateway, order))


ALIPAY_REQUEST = request(method=PaymentMethod.ALIPAY)


# -- what we send -----------------------------------------------------------------


def test_order_string_is_signed_for_the_client_sdk(stub: AlipayStub, gateway: RecordingGateway) -> None:
    payload = gateway.create_payment(ALIPAY_REQUEST)
    assert payload.kind == "order_string"
    params = dict(parse_qsl(payload.as_dict()["order_string"], strict_parsing=True))
    assert {k: params[k] for k in ("app_id", "method", "format", "charset", "sign_type", "version", "notify_url")} == {
        "app_id": APP_ID, "method": "alipay.trade.app.pay", "format": "JSON", "charset": "utf-8",
        "sign_type": "RSA2", "version": "1.0", "notify_url": NOTIFY_URL}
    assert params["timestamp"] == "2026-01-05 10:00:00"  # Beijing time
    assert json.loads(params["biz_content"]) == {
        "out_trade_no": ORDER, "total_amount": "198.00", "subject": "Swedish massage 60 min",
        "product_code": "QUICK_MSECURITY_PAY", "time_expire": "2026-01-05 10:30:00"}
    assert rsa2_verify(stub.app_public_key, signing_string(params, request=True), params["sign"])


@pytest.mark.parametrize(("product", "method", "code"), [("wap", "alipay.trade.wap.pay", "QUICK_WAP_WAY"),
                                                          ("page", "alipay.trade.page.pay", "FAST_INSTANT_TRADE_PAY")])
def test_wap_and_page_products_give_a_pay_url(stub: AlipayStub, clock: FixedClock, product: str, method: str,
                                              code: str) -> None:
    gateway = gateway_for(stub, clock, product=product, return_url="https://massage.example.com/paid")
    expires = START + timedelta(minutes=15)
    payload = gateway.create_payment(request(method=PaymentMethod.ALIPAY).__class__(
        order_reference=ORDER, amount=PRICE, method=PaymentMethod.ALIPAY, description="按摩 60 分钟",
        expires_at=expires))
    url = payload.as_dict()["pay_url"]
    assert payload.kind == "pay_url" and url.startswith(stub.url + "?")
    params = dict(parse_qsl(url.split("?", 1)[1]))
    biz = json.loads(params["biz_content"])
    assert (params["method"], biz["product_code"], biz["time_expire"], biz["subject"]) == (
        method, code, "2026-01-05 10:15:00", "按摩 60 分钟")
    assert params["return_url"] == "https://massage.example.com/paid"
    assert stub.open_order(url)["total"] == 19800


def test_every_request_is_signed_and_accepted_by_alipay(stub: AlipayStub, gateway: RecordingGateway) -> None:
    paid(stub, gateway)
    gateway.refund(refund("rf-1", Money.yuan(10)))
    gateway.query(ORDER)
    with pytest.raises(Conflict):
        gateway.close(ORDER)
    assert stub.refused_requests == []
    methods = [params["method"] for params in stub.requests]
    assert {"alipay.trade.query", "alipay.trade.refund", "alipay.trade.close"} <= set(methods)
    for params in stub.requests:
        assert (params["charset"], params["sign_type"], params["format"], params["version"]) == (
            "utf-8", "RSA2", "JSON", "1.0")


def test_requests_signed_with_another_key_are_refused_by_alipay(stub: AlipayStub, clock: FixedClock) -> None:
    _, intruder_pem, _ = key_pair("intruder")
    gateway = gateway_for(stub, clock, app_private_key=intruder_pem)
    with payment_error("payment.unavailable"):
        gateway.query(ORDER)
    assert stub.refused_requests == ["alipay.trade.query"]


# -- what we receive ----------------------------------------------------------------


@pytest.mark.parametrize(("fault", "code"), [
    ("500", "payment.unavailable"), ("garbage", "payment.unavailable"), ("unsigned", "payment.unavailable"),
    ("reformatted", "payment.unavailable"), ("tampered", "payment.unavailable"), ("bad_sign", "payment.unavailable"),
])
def test_unusable_or_unsigned_responses_are_refused(stub: AlipayStub, gateway: RecordingGateway, fault: str,
                                                   code: str) -> None:
    paid(stub, gateway)
    stub.fail_next(fault)
    with payment_error(code):
        gateway.query(ORDER)
    assert gateway.query(ORDER).status is PaymentStatus.PAID  # the next call is fine


def test_a_refund_refused_in_transit_moves_no_money_twice(stub: AlipayStub, gateway: RecordingGateway) -> None:
    paid(stub, gateway)
    stub.fail_next("none", "tampered")  # the query passes, the refund answer is tampered with
    with payment_error("payment.unavailable"):
        gateway.refund(refund("rf-1", Money.yuan(50)))
    again = gateway.refund(refund("rf-1", Money.yuan(50)))  # the retry: Alipay answers fund_change N
    assert (again.refunded_total, again.status) == (Money.yuan(50), RefundStatus.SUCCEEDED)
    assert stub.trades[ORDER]["refunded"] == 5000


def test_timeouts_and_refused_connections_are_unavailable(stub: AlipayStub, clock: FixedClock) -> None:
    gateway = gateway_for(stub, clock, read_timeout=0.3, connect_timeout=0.3)
    stub.fail_next("slow")
    with payment_error("payment.unavailable"):
        gateway.query(ORDER)
    closed = gateway_for(stub, clock, gateway_url="http://127.0.0.1:9/gateway.do")
    with payment_error("payment.unavailable"):
        closed.query(ORDER)
    with payment_error("payment.unavailable"):
        UrllibTransport().post_form("http://127.0.0.1:9/x", {"a": "b"})


def test_unsigned_unknown_errors_are_unavailable(stub: AlipayStub, gateway: RecordingGateway) -> None:
    stub.seller_balance_short = True
    paid(stub, gateway)
    with payment_error("payment.unavailable"):
        gateway.refund(refund("rf-1", Money.yuan(1)))
    stub.seller_balance_short = False
    assert gateway.refund(refund("rf-1", Money.yuan(1))).refunded_total == Money.yuan(1)


def test_response_members_keep_the_exact_text() -> None:
    text = '{"a_response" : {"msg":"成功","n":[1, {"x":"}"}]} ,"sign":"abc"}'
    members = response_members(text)
    assert members["a_response"][0] == '{"msg":"成功","n":[1, {"x":"}"}]}'
    assert members["sign"] == ('"abc"', "abc")
    for bad in ('{"a":1,"a":2}', "[]", '{"a":1} x', '{"a" 1}', '{"a":1,}', ""):
        with pytest.raises(ValueError):
            response_members(bad)


# -- close, refunds, Alipay's idempotency ----------------------------------------------


def test_close_of_an_opened_trade_closes_it_at_alipay(stub: AlipayStub, gateway: RecordingGateway) -> None:
    payload = gateway.create_payment(ALIPAY_REQUEST)
    stub.open_order(payload.as_dict()["order_string"])
    assert gateway.query(ORDER).status is PaymentStatus.PENDING
    assert gateway.close(ORDER).status is PaymentStatus.CLOSED
    assert stub.trades[ORDER]["status"] == "TRADE_CLOSED"
    assert gateway.close(ORDER).status is PaymentStatus.CLOSED
    with pytest.raises(Conflict) as caught:
        gateway.create_payment(ALIPAY_REQUEST)
    assert caught.value.code == "payment.closed"


def test_another_process_sees_alipays_state(stub: AlipayStub, gateway: RecordingGateway, clock: FixedClock) -> None:
    paid(stub, gateway)
    other = gateway_for(stub, clock)  # no local memory: everything comes from Alipay
    with pytest.raises(Conflict) as caught:
        other.create_payment(ALIPAY_REQUEST)
    assert caught.value.code == "payment.already_paid"
    first = other.refund(refund("rf-1", Money.yuan(50)))
    again = gateway_for(stub, clock).refund(refund("rf-1", Money.yuan(50)))  # fund_change N, refund query
    assert (again.amount, again.refunded_total, again.provider_refund_id) == (
        first.amount, first.refunded_total, first.provider_refund_id)
    with pytest.raises(Conflict) as clash:
        gateway_for(stub, clock).refund(refund("rf-1", Money.yuan(60)))  # ACQ.DISCORDANT_REPEAT_REQUEST
    assert clash.value.code == "payment.refund_conflict"
    assert stub.trades[ORDER]["refunded"] == 5000
    with pytest.raises(NotFound):
        gateway_for(stub, clock).query(OTHER_ORDER)


def test_full_refund_closes_the_trade_but_it_stays_paid(stub: AlipayStub, gateway: RecordingGateway,
                                                       clock: FixedClock) -> None:
    paid(stub, gateway)
    gateway.refund(refund("rf-1", PRICE))
    assert stub.trades[ORDER]["status"] == "TRADE_CLOSED"
    record = gateway_for(stub, clock).query(ORDER)
    assert (record.status, record.refunded, record.refundable) == (PaymentStatus.PAID, PRICE, Money.zero())
    notice = gateway.parse_callback(*stub.notification(ORDER))  # Alipay's TRADE_CLOSED after the refund
    assert notice.status is PaymentStatus.PAID and notice.paid_at == START


def test_expired_trade_notifies_closed(stub: AlipayStub, gateway: RecordingGateway) -> None:
    payload = gateway.create_payment(ALIPAY_REQUEST)
    stub.open_order(payload.as_dict()["order_string"])
    notice = gateway.parse_callback(*stub.expire(ORDER))
    assert (notice.status, notice.paid_at) == (PaymentStatus.CLOSED, None)
    assert gateway.query(ORDER).status is PaymentStatus.CLOSED


def test_closed_before_opening_is_only_closed_here(stub: AlipayStub, gateway: RecordingGateway) -> None:
    """Alipay knows no trade until the buyer opens the order string; time_expire bounds that (decision 27)."""
    payload = gateway.create_payment(ALIPAY_REQUEST)
    assert gateway.close(ORDER).status is PaymentStatus.CLOSED
    stub.open_order(payload.as_dict()["order_string"])  # the buyer opens it anyway, before time_expire
    assert gateway.query(ORDER).status is PaymentStatus.PENDING  # Alipay's word wins
    assert gateway.close(ORDER).status is PaymentStatus.CLOSED


# -- notifications ------------------------------------------------------------------------


def test_acknowledgement_is_exactly_success_only_when_accepted() -> None:
    assert AlipayGateway.ACK == "success"
    assert AlipayGateway.acknowledgement(True) == "success"
    assert AlipayGateway.acknowledgement(False) == "fail"
    assert AlipayGateway.acknowledgement(1) == "fail"  # type: ignore[arg-type]


def test_notification_for_another_app_or_seller_is_a_mismatch(stub: AlipayStub, gateway: RecordingGateway) -> None:
    paid(stub, gateway)
    for change in ({"app_id": "2021000999999999"}, {"seller_id": "2088999999999999"}):
        headers, body = stub.notification(ORDER, **change)
        with payment_error("payment.mismatch"):
            gateway.parse_callback(headers, body)


def test_same_notify_id_with_other_content_is_a_replay(stub: AlipayStub, gateway: RecordingGateway) -> None:
    paid(stub, gateway)
    headers, body = stub.notification(ORDER)
    gateway.parse_callback(headers, body)
    notify_id = form_of(body)["notify_id"]
    changed = stub.notification(ORDER, notify_id=notify_id, buyer_logon_id="138****0000")
    with payment_error("payment.replay"):
        gateway.parse_callback(*changed)
    retry = stub.notification(ORDER)  # Alipay's retry: a new notify_id, the same trade
    assert gateway.parse_callback(*retry) == gateway.parse_callback(headers, body)


def test_stale_notification_is_confirmed_by_query_when_configured(stub: AlipayStub, clock: FixedClock) -> None:
    gateway = gateway_for(stub, clock, confirm_stale_by_query=True)
    gateway.create_payment(ALIPAY_REQUEST)
    headers, body = open_and_pay(stub, gateway, ORDER)
    fresh = gateway.parse_callback(headers, body)
    clock.advance(timedelta(hours=20))  # Alipay still retrying a day later
    assert gateway.parse_callback(headers, body) == fresh
    stub.trades[ORDER]["status"] = "WAIT_BUYER_PAY"  # what the notice claims is no longer confirmed
    stub.trades[ORDER]["paid_at"] = None
    with payment_error("payment.stale"):
        gateway.parse_callback(headers, body)


def test_signed_but_unreadable_fields_are_malformed(stub: AlipayStub, gateway: RecordingGateway) -> None:
    paid(stub, gateway)
    for change in ({"total_amount": "198.001"}, {"total_amount": "-198.00"}, {"total_amount": "1e2"},
                   {"total_amount": "0.00"}, {"total_amount": None}, {"trade_status": "WAIT_BUYER_PAY"},
                   {"trade_status": "REFUND"}, {"gmt_payment": None}, {"gmt_payment": "2026/01/05 10:00:00"},
                   {"notify_type": "refund_sync"}, {"charset": "gbk"}, {"out_trade_no": "bad ref"},
                   {"trade_no": None}, {"notify_id": None}, {"receipt_amount": "1,98"},
                   {"notify_time": "2026-01-05T10:00:00"}, {"app_id": None}, {"seller_id": None}):
        with payment_error("payment.malformed"):
            gateway.parse_callback(*stub.notification(ORDER, **change))


@pytest.mark.parametrize(("text", "fen"), [("198.00", 19800), ("198", 19800), ("0.01", 1), ("198.5", 19850),
                                           ("9999999999.99", 999999999999)])
def test_amounts_convert_exactly(text: str, fen: int) -> None:
    assert parse_amount(text) == Money(fen)
    assert format_amount(Money(fen)) == f"{fen // 100}.{fen % 100:02d}"


@pytest.mark.parametrize("text", ["", " 1.00", "1.00 ", "01.00", "1.000", "+1", "-1", "1e2", "１.００", "1,00", ".5",
                                  "1.", "NaN", "0x10", "12345678901.00"])
def test_malformed_amounts_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_amount(text)


def test_times_are_beijing_time() -> None:
    assert parse_time("2026-01-05 10:00:00") == START
    for bad in ("2026-01-05 10:00", "2026-02-30 10:00:00", "2026-01-05T10:00:00", "2026-01-05 10:00:00 "):
        with pytest.raises(ValueError):
            parse_time(bad)


# -- configuration ------------------------------------------------------------------------


@pytest.mark.parametrize(("change", "field"), [
    ({"app_id": "abc"}, "app_id"), ({"seller_id": "1234"}, "seller_id"), ({"notify_url": "ftp://x"}, "notify_url"),
    ({"gateway_url": "http://openapi.alipay.com/gateway.do"}, "gateway_url"), ({"product": "qr"}, "product"),
    ({"read_timeout": 0}, "read_timeout"), ({"default_expiry": timedelta(seconds=5)}, "default_expiry"),
])
def test_bad_configuration_is_refused(stub: AlipayStub, change: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        config_for(stub, **change)
    assert caught.value.code == "payment.config"


def test_keys_are_checked_and_accepted_as_console_base64(stub: AlipayStub) -> None:
    for change in ({"app_private_key": "not a key"}, {"alipay_public_key": stub.app_private_pem},
                   {"app_private_key": stub.alipay_public_pem}):
        with pytest.raises(ValidationError) as caught:
            config_for(stub, **change)
        assert caught.value.code == "payment.key"
    from cryptography.hazmat.primitives.asymmetric import rsa

    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    for change in ({"app_private_key": weak}, {"alipay_public_key": weak.public_key()}):
        with pytest.raises(ValidationError) as caught:
            config_for(stub, **change)
        assert caught.value.code == "payment.key"
    assert isinstance(config_for(stub, app_private_key=stub.app_private_pem), AlipayConfig)
    bare = "".join(line for line in stub.alipay_public_pem.splitlines() if "-----" not in line)
    assert isinstance(config_for(stub, alipay_public_key=bare), AlipayConfig)
    assert "PRIVATE" not in repr(config_for(stub))


def test_other_methods_are_refused(gateway: RecordingGateway) -> None:
    with pytest.raises(ValidationError) as caught:
        gateway.create_payment(request())
    assert caught.value.code == "payment.method"


def test_concurrent_refund_retries_take_effect_once(stub: AlipayStub, gateway: RecordingGateway) -> None:
    paid(stub, gateway)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = set(pool.map(lambda _: gateway.refund(refund("rf-1", Money.yuan(50))), range(10)))
    assert len(results) == 1 and stub.trades[ORDER]["refunded"] == 5000


def test_wrong_type_arguments(gateway: RecordingGateway) -> None:
    for call in (gateway.create_payment, gateway.refund):
        with pytest.raises(ValidationError):
            call({"order_reference": ORDER})  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        gateway.query(12345)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        AlipayGateway("config", FixedClock())  # type: ignore[arg-type]
    with payment_error("payment.malformed"):
        gateway.parse_callback(None, b"a=b")  # type: ignore[arg-type]


def test_notify_ids_are_forgotten_after_the_window_and_memory_is_bounded(
    stub: AlipayStub, gateway: RecordingGateway, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from massage_core.adapters.alipay import notifications

    paid(stub, gateway)
    for _ in range(3):
        gateway.parse_callback(*stub.notification(ORDER))
    assert gateway._notifications.remembered == 4
    clock.advance(timedelta(minutes=6))
    gateway.parse_callback(*stub.notification(ORDER))
    assert gateway._notifications.remembered == 1
    monkeypatch.setattr(notifications, "MAX_REMEMBERED", 2)
    for _ in range(3):
        clock.advance(timedelta(seconds=1))
        gateway.parse_callback(*stub.notification(ORDER))
    assert gateway._notifications.remembered == 2


@pytest.mark.parametrize(("fault", "error", "code"), [
    ("business:ACQ.SYSTEM_ERROR", PaymentError, "payment.unavailable"),
    ("business:ACQ.SELLER_BALANCE_NOT_ENOUGH", PaymentError, "payment.unavailable"),
    ("business:ACQ.INVALID_PARAMETER", PaymentError, "payment.refused"),
    ("business:ACQ.SOMETHING_NEW", PaymentError, "payment.refused"),
    ("business:ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", PaymentError, "payment.total_mismatch"),
    ("business:ACQ.REASON_TRADE_REFUND_FEE_ERR", PaymentError, "payment.over_refund"),
    ("business:ACQ.TRADE_HAS_FINISHED", PaymentError, "payment.over_refund"),
    ("business:ACQ.TRADE_HAS_CLOSE", PaymentError, "payment.over_refund"),
    ("business:ACQ.DISCORDANT_REPEAT_REQUEST", Conflict, "payment.refund_conflict"),
    ("business:ACQ.TRADE_NOT_EXIST", NotFound, "not_found"),
    ("code:20000", PaymentError, "payment.unavailable"),
    ("code:40006", PaymentError, "payment.refused"),
    ("code:40002", PaymentError, "payment.refused"),
])
def test_refund_sub_codes_map_to_the_ports_errors(stub: AlipayStub, gateway: RecordingGateway, fault: str,
                                                  error: type[Exception], code: str) -> None:
    paid(stub, gateway)
    stub.fail_next("none", fault)  # the pre-check query passes; the refund gets the fault
    with pytest.raises(error) as caught:
        gateway.refund(refund("rf-1", Money.yuan(10)))
    assert getattr(caught.value, "code") == code
    assert stub.trades[ORDER]["refunded"] == 0
    assert gateway.refund(refund("rf-1", Money.yuan(10))).refunded_total == Money.yuan(10)  # nothing was cached


@pytest.mark.parametrize(("fault", "code"), [("business:ACQ.TRADE_HAS_SUCCESS", "payment.already_paid"),
                                             ("business:ACQ.TRADE_HAS_CLOSE", "payment.closed"),
                                             ("business:ACQ.CONTEXT_INCONSISTENT", "payment.conflict"),
                                             ("business:ACQ.TRADE_STATUS_ERROR", "payment.not_paid")])
def test_query_sub_codes_map_to_the_ports_errors(stub: AlipayStub, gateway: RecordingGateway, fault: str,
                                                 code: str) -> None:
    stub.fail_next(fault)
    with pytest.raises((Conflict, PaymentError)) as caught:
        gateway.query(ORDER)
    assert caught.value.code == code


def test_local_memory_is_bounded(stub: AlipayStub, gateway: RecordingGateway,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from massage_core.adapters.alipay import gateway as module

    monkeypatch.setattr(module, "MAX_REMEMBERED", 2)
    for n in range(4):
        gateway.create_payment(request(f"ord_bounded_{n:02d}", method=PaymentMethod.ALIPAY))
    with pytest.raises(NotFound):
        gateway.query("ord_bounded_00")  # forgotten here, never opened at Alipay
    assert gateway.query("ord_bounded_03").status is PaymentStatus.PENDING


def test_a_non_canonical_base64_signature_is_refused(stub: AlipayStub, gateway: RecordingGateway) -> None:
    """The same signature bytes with the unused low bits of the last base64 digit set: not what Alipay sent."""
    import base64

    paid(stub, gateway)
    headers, body = stub.notification(ORDER)
    form = form_of(body)
    sign = form["sign"]
    assert sign.endswith("==")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = alphabet.index(sign[-3])
    twin = sign[:-3] + alphabet[last ^ 0b0001] + "=="
    assert base64.b64decode(twin) == base64.b64decode(sign) and twin != sign
    with payment_error("payment.signature"):
        gateway.parse_callback(headers, body_of({**form, "sign": twin}))
    assert gateway.parse_callback(headers, body).order_reference == ORDER
