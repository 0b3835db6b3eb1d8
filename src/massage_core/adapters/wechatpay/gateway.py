"""``WeChatPayGateway``: the PaymentGateway port over WeChat Pay API v3 (direct merchant).

- ``create_payment``: ``POST /v3/pay/transactions/jsapi`` when the request
  names a payer (openid), ``/v3/pay/transactions/app`` otherwise; the
  client parameters are signed with the merchant key (JSAPI: ``appId,
  timeStamp, nonceStr, package=prepay_id=.., signType=RSA, paySign``; App:
  ``appid, partnerid, prepayid, package=Sign=WXPay, noncestr, timestamp,
  sign``).  The nonce is derived from the prepay id and the timestamp, so
  the same request again (WeChat answers the same prepay id) gives an equal
  payload.
- ``query``: ``GET /v3/pay/transactions/out-trade-no/{no}?mchid=..``.
- ``close``: ``POST /v3/pay/transactions/out-trade-no/{no}/close``, then a query.
- ``refund``: ``POST /v3/refund/domestic/refunds`` keyed by ``out_refund_no``.
- ``parse_callback``: see ``callbacks``.
- ``statement``: the day's trade bills; see ``bills``.

WeChat reports neither an order's refunded total nor a list of its refunds,
so the adapter keeps a *refund book* (in memory, per gateway object) of the
refunds it made: it gives ``PaymentRecord.refunded`` and
``RefundResult.refunded_total`` and refuses an over-refund before sending
it.  WeChat itself refuses over-refunds the book does not know about
(another process); that refusal surfaces as ``payment.refused``.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping, Sequence

from attrs import frozen

from massage_core.adapters.wechatpay import bills, wire
from massage_core.adapters.wechatpay.callbacks import CallbackVerifier
from massage_core.adapters.wechatpay.client import ApiClient, WeChatPayRefused, path_segment
from massage_core.adapters.wechatpay.config import WeChatPayConfig
from massage_core.adapters.wechatpay.signing import client_message, derived_nonce
from massage_core.adapters.wechatpay.transport import HttpTransport, StdlibTransport, unavailable
from massage_core.domain.errors import Conflict, NotFound, PaymentError, ValidationError
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
    StatementLine,
)
from massage_core.domain.time import DEFAULT_ZONE
from massage_core.ports.clock import Clock
from massage_core.ports.payments import PaymentGateway

TRANSACTIONS = "/v3/pay/transactions"
REFUNDS = "/v3/refund/domestic/refunds"
_NOT_FOUND = frozenset({"ORDER_NOT_EXIST", "ORDERNOTEXIST", "RESOURCE_NOT_EXISTS"})


@frozen
class _BookedRefund:
    result: RefundResult
    position: int


class WeChatPayGateway(PaymentGateway):
    """WeChat Pay API v3 behind the PaymentGateway port; thread-safe."""

    def __init__(self, config: WeChatPayConfig, clock: Clock, transport: HttpTransport | None = None) -> None:
        """Load and check the keys now (ValidationError ``payment.config``); talk through ``transport``."""
        if not isinstance(config, WeChatPayConfig):
            raise ValidationError("expected a WeChatPayConfig", code="payment.config")
        self._config = config
        self._clock = clock
        self._client = ApiClient(config, clock, transport or StdlibTransport())
        self._callbacks = CallbackVerifier(config, clock, self._client.platform_keys)
        self._refunds: dict[str, _BookedRefund] = {}
        self._refund_lock = threading.RLock()  # refunds run one at a time; query() reads the book under it too

    @property
    def accepted_notices(self) -> int:
        """How many distinct callbacks ``parse_callback`` accepted (replays not counted)."""
        return self._callbacks.accepted

    # -- the port ---------------------------------------------------------

    def create_payment(self, request: PaymentRequest) -> PaymentPayload:
        """Open a JSAPI (payer given) or App payment; see the port for the errors."""
        if not isinstance(request, PaymentRequest):
            raise ValidationError("expected a PaymentRequest", code="payment.request")
        if request.method is not PaymentMethod.WECHAT:
            try:
                self.query(request.order_reference)
            except NotFound:
                raise ValidationError("the WeChat Pay gateway takes WeChat payments only", code="payment.method",
                                      field="method") from None
            raise Conflict(f"payment {request.order_reference} is open with WeChat Pay", code="payment.conflict")
        jsapi = request.payer is not None
        appid = self._config.appid if jsapi else (self._config.app_appid or self._config.appid)
        payload = wire.transaction_request(request, appid, self._config.mchid, self._config.notify_url)
        try:
            _status, answer = self._client.call("POST", f"{TRANSACTIONS}/{'jsapi' if jsapi else 'app'}",
                                                payload=payload)
        except WeChatPayRefused as refused:
            raise self._create_error(refused, request.order_reference) from None
        prepay_id = answer.get("prepay_id") if isinstance(answer, dict) else None
        if not isinstance(prepay_id, str) or not 0 < len(prepay_id) <= 64:
            raise unavailable("answer has no prepay_id")
        stamp = str(int(self._clock.now().timestamp()))
        nonce = derived_nonce(self._config.apiv3_key, prepay_id, stamp)
        if jsapi:
            package = f"prepay_id={prepay_id}"
            params = {"appId": appid, "timeStamp": stamp, "nonceStr": nonce, "package": package, "signType": "RSA",
                      "paySign": self._client.sign(client_message(appid, stamp, nonce, package))}
        else:
            params = {"appid": appid, "partnerid": self._config.mchid, "prepayid": prepay_id,
                      "package": "Sign=WXPay", "noncestr": nonce, "timestamp": stamp,
                      "sign": self._client.sign(client_message(appid, stamp, nonce, prepay_id))}
        return PaymentPayload(order_reference=request.order_reference, method=PaymentMethod.WECHAT,
                              amount=request.amount, kind="prepay", params=params)

    def parse_callback(self, headers: Mapping[str, str], body: bytes) -> PaymentNotice:
        """Verify and decrypt a payment notification; see ``callbacks`` for the checks and codes."""
        return self._callbacks.parse(headers, body)

    def query(self, order_reference: str) -> PaymentRecord:
        """WeChat's record of the order; ``refunded`` from the refund book."""
        if not isinstance(order_reference, str):
            raise NotFound("payment", str(order_reference)[:40])
        try:
            _status, answer = self._client.call(
                "GET", f"{TRANSACTIONS}/out-trade-no/{path_segment(order_reference)}",
                query={"mchid": self._config.mchid})
        except WeChatPayRefused as refused:
            if refused.wechat_code in _NOT_FOUND:
                raise NotFound("payment", order_reference[:40]) from None
            raise
        appid, mchid, reference, *_ = wire.transaction_parts(answer, unavailable)
        if appid not in self._config.appids or mchid != self._config.mchid or reference != order_reference:
            raise PaymentError("WeChat Pay answered about another order, appid or mchid", code="payment.mismatch")
        return wire.record(answer, self._refunded(order_reference), unavailable)

    def refund(self, request: RefundRequest) -> RefundResult:
        """Refund through WeChat, idempotent by ``out_refund_no``; see the port for the errors."""
        if not isinstance(request, RefundRequest):
            raise ValidationError("expected a RefundRequest", code="payment.request")
        with self._refund_lock:
            booked = self._refunds.get(request.out_refund_no)
            if booked is not None:
                self._check_same(booked.result.order_reference, booked.result.amount, request)
            record = self.query(request.order_reference)
            if record.status is not PaymentStatus.PAID:
                raise PaymentError(f"payment {request.order_reference} is {record.status.value}, not paid",
                                   code="payment.not_paid")
            if request.payment_total != record.amount:
                raise PaymentError(f"payment total {request.payment_total} differs from the {record.amount} paid",
                                   code="payment.total_mismatch")
            if booked is None and record.amount < self._refunded(request.order_reference) + request.amount:
                raise PaymentError(f"refund of {request.amount} exceeds the {record.refundable} refundable",
                                   code="payment.over_refund")
            body = {"out_trade_no": request.order_reference, "out_refund_no": request.out_refund_no,
                    "reason": request.reason,
                    "amount": {"refund": request.amount.fen, "total": request.payment_total.fen,
                               "currency": request.amount.currency}}
            try:
                _status, answer = self._client.call("POST", REFUNDS, payload=body)
            except WeChatPayRefused as refused:
                raise self._refund_error(refused, request) from None
            parts = wire.refund_parts(answer, unavailable)
            if parts[1] != request.out_refund_no:
                raise unavailable("answer is about another refund number")
            self._check_same(parts[0], parts[3], request)
            position = booked.position if booked is not None else len(self._refunds)
            total = self._refunded(request.order_reference, before=position)
            if parts[4] is not RefundStatus.FAILED:
                total = total + parts[3]
            result = wire.refund_result(parts, total, unavailable)
            self._refunds[request.out_refund_no] = _BookedRefund(result, position)
            return result

    def close(self, order_reference: str) -> PaymentRecord:
        """Close an unpaid payment (idempotent); Conflict ``payment.already_paid`` when it was paid."""
        if not isinstance(order_reference, str):
            raise NotFound("payment", str(order_reference)[:40])
        try:
            self._client.call("POST", f"{TRANSACTIONS}/out-trade-no/{path_segment(order_reference)}/close",
                              payload={"mchid": self._config.mchid})
        except WeChatPayRefused as refused:
            if refused.wechat_code in _NOT_FOUND:
                raise NotFound("payment", order_reference[:40]) from None
            if refused.wechat_code == "ORDERPAID":
                raise Conflict(f"payment {order_reference} is already paid", code="payment.already_paid") from None
            if refused.wechat_code != "ORDER_CLOSED":
                raise
        record = self.query(order_reference)
        if record.status is PaymentStatus.PAID:
            raise Conflict(f"payment {order_reference} is already paid", code="payment.already_paid")
        return record

    def statement(self, day: dt.date, zone: str = DEFAULT_ZONE) -> Sequence[StatementLine]:
        """The trade bills (``GET /v3/bill/tradebill``, then its ``download_url``) that cover ``day`` in ``zone``,
        hash-checked and read into lines (see ``bills``; decision 0035).  WeChat cuts bills by Beijing day, so
        another zone's day reads two bills.  Raises ``payment.statement_hash`` / ``payment.statement_malformed``
        for a bill that cannot be trusted or read, ``payment.mismatch`` for another merchant's bill."""
        return bills.statement(self._client, self._config.mchid, day, zone)

    # -- internals ---------------------------------------------------------

    def _refunded(self, order_reference: str, before: int | None = None) -> Money:
        total = Money.zero()
        with self._refund_lock:
            booked_refunds = list(self._refunds.values())
        for booked in booked_refunds:
            result = booked.result
            if (result.order_reference == order_reference and result.status is not RefundStatus.FAILED
                    and (before is None or booked.position < before)):
                total = total + result.amount
        return total

    @staticmethod
    def _check_same(order_reference: str, amount: Money, request: RefundRequest) -> None:
        if (order_reference, amount) != (request.order_reference, request.amount):
            raise Conflict(f"refund number {request.out_refund_no} was used for another order or amount",
                           code="payment.refund_conflict")

    @staticmethod
    def _create_error(refused: WeChatPayRefused, reference: str) -> Exception:
        if refused.wechat_code == "ORDERPAID":
            return Conflict(f"payment {reference} is already paid", code="payment.already_paid")
        if refused.wechat_code in ("ORDER_CLOSED", "ORDERCLOSED"):
            return Conflict(f"payment {reference} was closed", code="payment.closed")
        if refused.wechat_code == "OUT_TRADE_NO_USED":
            return Conflict(f"payment {reference} is open with other terms", code="payment.conflict")
        return refused

    def _refund_error(self, refused: WeChatPayRefused, request: RefundRequest) -> Exception:
        if refused.wechat_code in _NOT_FOUND:
            return NotFound("payment", request.order_reference[:40])
        if refused.wechat_code in ("NOT_ENOUGH", "NOTENOUGH"):
            return PaymentError("the merchant's WeChat Pay balance cannot cover the refund now; retry later",
                                code="payment.unavailable")
        conflict = Conflict(f"refund number {request.out_refund_no} was used for another order or amount",
                            code="payment.refund_conflict")
        if refused.wechat_code == "REFUND_FEE_MISMATCH":
            return conflict
        if refused.wechat_code in ("INVALID_REQUEST", "PARAM_ERROR"):  # is the number taken by another refund?
            try:
                _status, answer = self._client.call("GET", f"{REFUNDS}/{path_segment(request.out_refund_no)}")
            except WeChatPayRefused:
                return refused
            reference, _number, _id, amount, *_ = wire.refund_parts(answer, unavailable)
            if (reference, amount) != (request.order_reference, request.amount):
                return conflict
        return refused
