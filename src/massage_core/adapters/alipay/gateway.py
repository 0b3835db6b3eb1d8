"""``AlipayGateway``: the PaymentGateway port over the Alipay open platform (RSA2, JSON responses, form notifications).

- ``create_payment`` signs a client order (``alipay.trade.app.pay`` order
  string, or a ``wap``/``page`` pay URL) after asking ``alipay.trade.query``
  whether the order is already paid, closed or open with other terms;
- ``query`` / ``close`` / ``refund`` call ``alipay.trade.query``,
  ``alipay.trade.close``, ``alipay.trade.refund`` and
  ``alipay.trade.fastpay.refund.query``; every request is signed and every
  response's ``sign`` verified over the exact response JSON text;
- ``statement`` reads the day's trade bills (``bills``);
- ``parse_callback`` verifies a notification (``notifications``) and the web
  layer answers Alipay with ``acknowledgement(accepted)``: exactly
  ``success`` only when the notice was accepted.

See docs/decisions/0027-alipay.md for what Alipay cannot tell (a client order
not yet opened by the buyer, the refunded total of a trade) and how the
adapter fills it in.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

import attrs

from massage_core.adapters.alipay import bills
from massage_core.adapters.alipay.config import PRODUCTS, AlipayConfig
from massage_core.adapters.alipay.notifications import NotificationReader, read_notice
from massage_core.adapters.alipay.client import SUCCESS, AlipayClient
from massage_core.adapters.alipay.transport import Transport, UrllibTransport, unavailable
from massage_core.adapters.alipay.wire import (
    TRADE_STATUSES,
    answer_amount,
    answer_text,
    answer_time,
    business_error,
    format_amount,
    format_time,
    refund_id,
)
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

#: Orders, refunds and refunded totals remembered per gateway object at most (the oldest are forgotten first):
#: enough for days of traffic, bounded for a long-running process.
MAX_REMEMBERED = 100_000


def _bounded(memory: dict[str, Any]) -> None:
    """Drop the oldest entries of ``memory`` (insertion order) beyond MAX_REMEMBERED; call with the lock held."""
    while len(memory) > MAX_REMEMBERED:
        del memory[next(iter(memory))]


@attrs.frozen
class _Opened:
    """A client order this adapter signed: Alipay only learns of it when the buyer opens it."""

    request: PaymentRequest
    payload: PaymentPayload
    closed: bool = False


class AlipayGateway(PaymentGateway):
    """One Alipay app and merchant behind the PaymentGateway port."""

    #: The exact body Alipay expects when a notification was accepted; anything else makes it retry (~25 hours).
    ACK = "success"
    NACK = "fail"

    def __init__(self, config: AlipayConfig, clock: Clock, transport: Transport | None = None) -> None:
        if not isinstance(config, AlipayConfig):
            raise ValidationError("expected an AlipayConfig", code="payment.config")
        self._config = config
        self._clock = clock
        self._transport = transport or UrllibTransport(connect_timeout=config.connect_timeout,
                                                       read_timeout=config.read_timeout)
        self._client = AlipayClient(config, clock, self._transport)
        self._notifications = NotificationReader(config, clock)
        self._opened: dict[str, _Opened] = {}
        self._refunds: dict[str, RefundResult] = {}
        self._refunded: dict[str, Money] = {}
        self._lock = threading.Lock()
        self._refund_lock = threading.Lock()

    @classmethod
    def acknowledgement(cls, accepted: bool) -> str:
        """The HTTP body to answer a notification with: ``success`` only when ``accepted``."""
        return cls.ACK if accepted is True else cls.NACK

    @property
    def distinct_notices(self) -> int:
        """How many different notifications ``parse_callback`` accepted (replays not counted)."""
        return self._notifications.distinct_notices

    # -- the port ---------------------------------------------------------

    def create_payment(self, request: PaymentRequest) -> PaymentPayload:
        """Sign the client order (idempotent per process); see the port for the Conflict codes."""
        if not isinstance(request, PaymentRequest):
            raise ValidationError("expected a PaymentRequest", code="payment.request")
        reference = request.order_reference
        with self._lock:
            opened = self._opened.get(reference)
        if opened is not None:
            before = opened.request
            if (before.amount, before.method, before.payer) != (request.amount, request.method, request.payer):
                raise Conflict(f"payment {reference} is open with another amount, method or payer",
                               code="payment.conflict")
        if request.method is not PaymentMethod.ALIPAY:
            raise ValidationError("the Alipay gateway takes Alipay payments only", code="payment.method",
                                  field="method")
        remote = self._remote_record(reference)
        if remote is not None:
            if remote.status is PaymentStatus.PAID:
                raise Conflict(f"payment {reference} is already paid", code="payment.already_paid")
            if remote.status is PaymentStatus.CLOSED:
                raise Conflict(f"payment {reference} was closed", code="payment.closed")
            if remote.amount != request.amount:
                raise Conflict(f"payment {reference} is open with another amount", code="payment.conflict")
        with self._lock:
            opened = self._opened.get(reference)
            if opened is not None:
                if opened.closed and remote is None:
                    raise Conflict(f"payment {reference} was closed", code="payment.closed")
                return opened.payload
            payload = self._payload(request)
            self._opened[reference] = _Opened(request, payload)
            _bounded(self._opened)
            return payload

    def parse_callback(self, headers: Mapping[str, str], body: bytes) -> PaymentNotice:
        """Verify an asynchronous notification; see ``notifications`` for the checks and their codes."""
        verified = self._notifications.verified(headers, body)
        if not verified.stale:
            return self._notifications.notice(verified)
        if not self._config.confirm_stale_by_query:
            raise PaymentError("Alipay notification is more than 5 minutes old or ahead", code="payment.stale")
        return self._confirmed_by_query(verified.form)

    def query(self, order_reference: str) -> PaymentRecord:
        """Alipay's record of the trade; a signed order not yet opened by the buyer reads as pending (or closed)."""
        record = self._remote_record(order_reference)
        if record is not None:
            return record
        with self._lock:
            opened = self._opened.get(order_reference) if isinstance(order_reference, str) else None
        if opened is None:
            raise NotFound("payment", str(order_reference)[:40])
        return PaymentRecord(
            order_reference=order_reference, method=PaymentMethod.ALIPAY, amount=opened.request.amount,
            status=PaymentStatus.CLOSED if opened.closed else PaymentStatus.PENDING, refunded=Money.zero(),
        )

    def close(self, order_reference: str) -> PaymentRecord:
        """``alipay.trade.close``; idempotent; Conflict ``payment.already_paid`` once paid."""
        code, sub_code, _ = self._client.call("alipay.trade.close", {"out_trade_no": self._reference(order_reference)})
        if code == SUCCESS:
            return self.query(order_reference)
        if sub_code == "ACQ.TRADE_NOT_EXIST":
            with self._lock:
                opened = self._opened.get(order_reference)
                if opened is None:
                    raise NotFound("payment", order_reference)
                self._opened[order_reference] = attrs.evolve(opened, closed=True)
            return self.query(order_reference)
        record = self.query(order_reference)
        if record.status is PaymentStatus.PAID:
            raise Conflict(f"payment {order_reference} is already paid", code="payment.already_paid")
        if record.status is PaymentStatus.CLOSED:
            return record
        raise business_error(sub_code, "close refused", order_reference)

    def refund(self, request: RefundRequest) -> RefundResult:
        """``alipay.trade.refund`` keyed by ``out_request_no``; see the port for the codes."""
        if not isinstance(request, RefundRequest):
            raise ValidationError("expected a RefundRequest", code="payment.request")
        with self._refund_lock:
            earlier = self._refunds.get(request.out_refund_no)
            if earlier is not None:
                if (earlier.order_reference, earlier.amount) != (request.order_reference, request.amount):
                    raise Conflict(f"refund number {request.out_refund_no} was used for another order or amount",
                                   code="payment.refund_conflict")
                return earlier
            result = self._refund(request)
            self._refunds[request.out_refund_no] = result
            _bounded(self._refunds)
            return result

    def statement(self, day: dt.date, zone: str = DEFAULT_ZONE) -> Sequence[StatementLine]:
        """The trade bills (``alipay.data.dataservice.bill.downloadurl.query``, then the zipped GBK CSV) that
        cover ``day`` in ``zone``, read into lines (see ``bills``; decision 0035).  Alipay cuts bills by Beijing
        day, so another zone's day reads two bills.  Raises ``payment.statement_malformed`` for a download that
        cannot be read, ``payment.unavailable`` for an unverifiable answer."""
        return bills.statement(self._client, self._transport, self._config.gateway_url, day, zone)

    # -- internals ---------------------------------------------------------

    def _refund(self, request: RefundRequest) -> RefundResult:
        reference = request.order_reference
        record = self.query(reference)
        if record.amount != request.payment_total:
            raise PaymentError(f"payment total {request.payment_total} differs from the {record.amount} paid",
                               code="payment.total_mismatch")
        if record.status is not PaymentStatus.PAID:
            raise PaymentError(f"payment {reference} is {record.status.value}, not paid", code="payment.not_paid")
        code, sub_code, content = self._client.call("alipay.trade.refund", {
            "out_trade_no": reference, "refund_amount": format_amount(request.amount),
            "out_request_no": request.out_refund_no, "refund_reason": request.reason,
        })
        if code != SUCCESS:
            if sub_code in ("ACQ.TRADE_HAS_CLOSE", "ACQ.TRADE_STATUS_ERROR"):
                raise PaymentError(f"nothing left to refund on {reference} ({sub_code})", code="payment.over_refund")
            raise business_error(sub_code, str(content.get("sub_msg", "")), reference)
        total = answer_amount(content, "refund_fee")
        trade_no = answer_text(content, "trade_no")
        status = RefundStatus.SUCCEEDED if content.get("fund_change") == "Y" else self._refund_status(request)
        when = content.get("gmt_refund_pay")
        created_at = answer_time(when) if isinstance(when, str) and when else self._clock.now()
        with self._lock:
            known = self._refunded.get(reference, Money.zero())
            self._refunded[reference] = total if known < total else known
            _bounded(self._refunded)
        return RefundResult(
            order_reference=reference, out_refund_no=request.out_refund_no,
            provider_refund_id=refund_id(trade_no, request.out_refund_no), amount=request.amount,
            status=status, refunded_total=total, created_at=created_at,
        )

    def _refund_status(self, request: RefundRequest) -> RefundStatus:
        """fund_change N: a repeated request or one still processing; ``fastpay.refund.query`` tells which."""
        code, sub_code, content = self._client.call("alipay.trade.fastpay.refund.query", {
            "out_trade_no": request.order_reference, "out_request_no": request.out_refund_no,
        })
        if code != SUCCESS:
            raise business_error(sub_code, str(content.get("sub_msg", "")), request.order_reference)
        if content.get("refund_status") == "REFUND_SUCCESS":
            if "refund_amount" in content and answer_amount(content, "refund_amount") != request.amount:
                raise Conflict(f"refund number {request.out_refund_no} was used for another amount",
                               code="payment.refund_conflict")
            return RefundStatus.SUCCEEDED
        return RefundStatus.PROCESSING

    def _remote_record(self, order_reference: str) -> PaymentRecord | None:
        """``alipay.trade.query`` as a record; None when Alipay has no such trade (yet)."""
        code, sub_code, content = self._client.call("alipay.trade.query", {"out_trade_no": self._reference(order_reference)})
        if code != SUCCESS:
            if sub_code == "ACQ.TRADE_NOT_EXIST":
                return None
            raise business_error(sub_code, str(content.get("sub_msg", "")), order_reference)
        if content.get("out_trade_no") != order_reference or content.get("trade_status") not in TRADE_STATUSES:
            raise unavailable("query answered for another trade or with an unknown status")
        amount = answer_amount(content, "total_amount")
        paid_text = content.get("send_pay_date")
        paid_at = answer_time(paid_text) if isinstance(paid_text, str) and paid_text else None
        status = TRADE_STATUSES[str(content["trade_status"])]
        refunded = Money.zero()
        if status is PaymentStatus.CLOSED and paid_at is not None:
            status, refunded = PaymentStatus.PAID, amount  # closed after a full refund
        if status is PaymentStatus.PAID and paid_at is None:
            raise unavailable("query reports a paid trade without send_pay_date")
        with self._lock:
            known = self._refunded.get(order_reference, Money.zero())
        if refunded < known:
            refunded = known if known <= amount else amount
        paid = status is PaymentStatus.PAID
        try:
            return PaymentRecord(
                order_reference=order_reference, method=PaymentMethod.ALIPAY, amount=amount, status=status,
                refunded=refunded, provider_transaction_id=answer_text(content, "trade_no") if paid else None,
                paid_at=paid_at if paid else None,
            )
        except ValidationError as exc:
            raise unavailable(f"query answer unusable: {exc.code}") from None

    def _confirmed_by_query(self, form: dict[str, str]) -> PaymentNotice:
        """A stale but authentic notification: believe Alipay's fresh, signed query answer instead of it."""
        claimed = read_notice(form)  # well formed, or payment.malformed
        try:
            record = self._remote_record(claimed.order_reference)
        except NotFound:
            record = None
        if record is None or record.status is PaymentStatus.PENDING or (
            record.provider_transaction_id not in (None, claimed.provider_transaction_id)
        ):
            raise PaymentError("Alipay notification is stale and the trade does not confirm it", code="payment.stale")
        return PaymentNotice(
            method=PaymentMethod.ALIPAY, provider_transaction_id=claimed.provider_transaction_id,
            order_reference=claimed.order_reference, amount=record.amount, status=record.status,
            paid_at=record.paid_at,
        )

    def _payload(self, request: PaymentRequest) -> PaymentPayload:
        method, product_code, kind = PRODUCTS[self._config.product]
        now = self._clock.now()
        expires = request.expires_at or (now + self._config.default_expiry)
        biz = {
            "out_trade_no": request.order_reference, "total_amount": format_amount(request.amount),
            "subject": request.description, "product_code": product_code, "time_expire": format_time(expires),
        }
        params = self._client.signed(method, biz, notify_url=self._config.notify_url, return_url=self._config.return_url)
        pairs = sorted((key, value) for key, value in params.items() if key != "sign") + [("sign", params["sign"])]
        encoded = urlencode(pairs, encoding="utf-8")  # sorted, quote_plus-encoded, sign last, as the SDKs build it
        value = encoded if kind == "order_string" else f"{self._config.gateway_url}?{encoded}"
        return PaymentPayload(order_reference=request.order_reference, method=request.method, amount=request.amount,
                              kind=kind, params={kind: value})

    @staticmethod
    def _reference(order_reference: str) -> str:
        if not isinstance(order_reference, str) or not 0 < len(order_reference) <= 64:
            raise NotFound("payment", str(order_reference)[:40])
        return order_reference
