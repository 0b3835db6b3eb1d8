"""Payments and refunds as seen through a payment gateway (WeChat Pay, Alipay).

These value objects are what crosses the ``PaymentGateway`` port.  They are
shaped after the common ground of WeChat Pay API v3 and Alipay:

- an order is known to the gateway by our *order reference* (``out_trade_no``
  in both APIs): 6 to 32 characters of ``A-Z a-z 0-9 _ - | *`` (WeChat's
  rule, the stricter of the two), so an order id such as ``ord_01J...``
  fits as it is;
- a refund is keyed by our *refund number* (WeChat ``out_refund_no``, Alipay
  ``out_request_no``): 1 to 64 characters of ``A-Z a-z 0-9 _ - | * @``;
- amounts are integer fen (both APIs' totals convert exactly) and strictly
  positive.

Gateway-specific wire formats stay in the adapters; nothing here knows them.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Mapping
from typing import Any

from attrs import field, frozen

from massage_core.domain.errors import ValidationError
from massage_core.domain.money import Money
from massage_core.domain.time import DEFAULT_ZONE, Instant, utc, zone

ORDER_REFERENCE_PATTERN = re.compile(r"^[A-Za-z0-9_\-|*]{6,32}$")
REFUND_NUMBER_PATTERN = re.compile(r"^[A-Za-z0-9_\-|*@]{1,64}$")
#: WeChat limits ``description`` to 127 characters (Alipay's ``subject`` to 256).
MAX_DESCRIPTION_CHARS = 127
#: WeChat limits a refund ``reason`` to 80 characters.
MAX_REASON_CHARS = 80
MAX_PROVIDER_ID_CHARS = 64
MAX_PAYER_CHARS = 128


class PaymentMethod(enum.Enum):
    """Which gateway the customer pays through."""

    WECHAT = "wechat"
    ALIPAY = "alipay"


class PaymentStatus(enum.Enum):
    """The gateway's view of one order's payment.

    ``pending``: created, not (yet) paid (WeChat NOTPAY/USERPAYING, Alipay
    WAIT_BUYER_PAY).  ``paid``: money captured (WeChat SUCCESS and REFUND,
    Alipay TRADE_SUCCESS/TRADE_FINISHED; refunds do not change it, they are
    counted apart).  ``failed``: the attempt failed (WeChat PAYERROR); the
    customer may still pay.  ``closed``: closed unpaid, no payment can follow
    (WeChat CLOSED/REVOKED, Alipay TRADE_CLOSED without a payment).
    """

    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"
    CLOSED = "closed"


#: What a callback can announce (a gateway never notifies "still pending").
NOTICE_STATUSES = frozenset({PaymentStatus.PAID, PaymentStatus.FAILED, PaymentStatus.CLOSED})


class RefundStatus(enum.Enum):
    """Where a refund stands: real gateways may answer ``processing`` and settle later."""

    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


def _check_order_reference(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, str) or not ORDER_REFERENCE_PATTERN.fullmatch(value):
        raise ValidationError(
            "order reference must be 6-32 characters of letters, digits, _ - | *",
            code="payment.order_reference",
            field="order_reference",
        )


def _check_refund_number(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, str) or not REFUND_NUMBER_PATTERN.fullmatch(value):
        raise ValidationError(
            "refund number must be 1-64 characters of letters, digits, _ - | * @",
            code="payment.refund_number",
            field="out_refund_no",
        )


def _check_positive(_instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, Money) or value.fen <= 0:
        raise ValidationError(
            f"{attribute.name} must be a positive amount of money", code="payment.amount", field=attribute.name
        )


def _check_not_negative(_instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, Money) or value.is_negative:
        raise ValidationError(
            f"{attribute.name} must not be negative", code="payment.amount", field=attribute.name
        )


def _check_method(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, PaymentMethod):
        raise ValidationError("payment method must be wechat or alipay", code="payment.method", field="method")


def _text_check(code: str, max_chars: int, *, optional: bool = False) -> Any:
    """A validator for printable, stripped text of 1..max_chars characters (or None when optional)."""

    def check(_instance: Any, attribute: Any, value: Any) -> None:
        if value is None and optional:
            return
        if (
            not isinstance(value, str)
            or not 0 < len(value) <= max_chars
            or value != value.strip()
            or not value.isprintable()
        ):
            raise ValidationError(
                f"{attribute.name} must be 1-{max_chars} printable characters without surrounding spaces",
                code=code,
                field=attribute.name,
            )

    return check


def _instant(value: Any) -> Any:
    """Normalise an aware datetime to UTC; anything else is left for the validator."""
    return value if value is None or not hasattr(value, "tzinfo") else utc(value)


def _check_instant(_instance: Any, attribute: Any, value: Any) -> None:
    if value is not None and not isinstance(value, Instant):
        raise ValidationError(f"{attribute.name} must be a time", code="payment.time", field=attribute.name)


def _params(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, Mapping) and not isinstance(value, tuple):
        raise ValidationError("client parameters must be a mapping", code="payment.params", field="params")
    pairs = tuple(sorted(dict(value).items()))
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in pairs):
        raise ValidationError("client parameters must map text to text", code="payment.params", field="params")
    return pairs


@frozen
class PaymentRequest:
    """Ask the gateway to take ``amount`` for the order ``order_reference``.

    ``payer`` is the customer's id at the gateway when the flow needs one
    (WeChat JSAPI / mini-program ``openid``); None for QR-code or app flows.
    ``expires_at`` is when the gateway must stop accepting the payment
    (WeChat ``time_expire``, Alipay ``time_expire``); None for its default.
    """

    order_reference: str = field(validator=_check_order_reference)
    amount: Money = field(validator=_check_positive)
    method: PaymentMethod = field(validator=_check_method)
    description: str = field(validator=_text_check("payment.description", MAX_DESCRIPTION_CHARS))
    payer: str | None = field(default=None, validator=_text_check("payment.payer", MAX_PAYER_CHARS, optional=True))
    expires_at: Instant | None = field(default=None, converter=_instant, validator=_check_instant)


@frozen
class PaymentPayload:
    """What the client app needs to start paying: ``kind`` says how to read ``params``.

    Kinds: ``prepay`` (WeChat JSAPI/app: prepay id and signed parameters for
    the client SDK), ``code_url`` (WeChat Native QR code), ``pay_url`` (Alipay
    page/wap pay), ``order_string`` (Alipay app pay).  ``params`` is kept as
    sorted pairs so the object stays hashable; ``as_dict`` gives a mapping.
    """

    order_reference: str = field(validator=_check_order_reference)
    method: PaymentMethod = field(validator=_check_method)
    amount: Money = field(validator=_check_positive)
    kind: str = field(validator=_text_check("payment.kind", 32))
    params: tuple[tuple[str, str], ...] = field(converter=_params)

    def as_dict(self) -> dict[str, str]:
        """The client parameters as a fresh dict."""
        return dict(self.params)


@frozen
class PaymentNotice:
    """The verified content of a payment callback, exactly as the gateway signed it.

    Nothing here has been checked against our order: amount, currency and
    order reference are the order service's to compare.  ``paid_at`` is set
    exactly when ``status`` is paid.
    """

    method: PaymentMethod = field(validator=_check_method)
    provider_transaction_id: str = field(validator=_text_check("payment.transaction_id", MAX_PROVIDER_ID_CHARS))
    order_reference: str = field(validator=_check_order_reference)
    amount: Money = field(validator=_check_positive)
    status: PaymentStatus = field()
    paid_at: Instant | None = field(default=None, converter=_instant, validator=_check_instant)

    @status.validator
    def _check_status(self, _attribute: Any, value: Any) -> None:
        if value not in NOTICE_STATUSES:
            raise ValidationError("a notice announces paid, failed or closed", code="payment.status", field="status")

    def __attrs_post_init__(self) -> None:
        if (self.status is PaymentStatus.PAID) != (self.paid_at is not None):
            raise ValidationError("paid_at is given exactly for a paid notice", code="payment.paid_at",
                                  field="paid_at")


@frozen
class PaymentRecord:
    """The gateway's record of an order's payment, as ``query`` reports it.

    ``refunded`` is the sum of the refunds that did not fail; it never
    exceeds ``amount``.  ``provider_transaction_id`` and ``paid_at`` are set
    once the payment is paid.
    """

    order_reference: str = field(validator=_check_order_reference)
    method: PaymentMethod = field(validator=_check_method)
    amount: Money = field(validator=_check_positive)
    status: PaymentStatus = field()
    refunded: Money = field(validator=_check_not_negative)
    provider_transaction_id: str | None = field(default=None)
    paid_at: Instant | None = field(default=None, converter=_instant, validator=_check_instant)

    @status.validator
    def _check_status(self, _attribute: Any, value: Any) -> None:
        if not isinstance(value, PaymentStatus):
            raise ValidationError("unknown payment status", code="payment.status", field="status")

    def __attrs_post_init__(self) -> None:
        if self.amount < self.refunded:
            raise ValidationError("refunded more than paid", code="payment.amount", field="refunded")

    @property
    def refundable(self) -> Money:
        """What may still be refunded (zero unless paid)."""
        return self.amount - self.refunded if self.status is PaymentStatus.PAID else Money.zero(self.amount.currency)


@frozen
class RefundRequest:
    """Refund ``amount`` of the order's payment, keyed by our ``out_refund_no``.

    ``payment_total`` is what was paid for the order (WeChat requires it with
    every refund; the gateway checks it against its record).  Retrying with
    the same ``out_refund_no`` and amount is safe: the gateway answers with
    the first result.
    """

    order_reference: str = field(validator=_check_order_reference)
    out_refund_no: str = field(validator=_check_refund_number)
    amount: Money = field(validator=_check_positive)
    payment_total: Money = field(validator=_check_positive)
    reason: str = field(validator=_text_check("payment.reason", MAX_REASON_CHARS))

    def __attrs_post_init__(self) -> None:
        if self.payment_total < self.amount:
            raise ValidationError("a refund cannot exceed the payment total", code="payment.amount",
                                  field="amount")


@frozen
class RefundResult:
    """The gateway's answer to a refund: ``refunded_total`` counts this and every earlier refund of the order."""

    order_reference: str = field(validator=_check_order_reference)
    out_refund_no: str = field(validator=_check_refund_number)
    provider_refund_id: str = field(validator=_text_check("payment.refund_id", MAX_PROVIDER_ID_CHARS))
    amount: Money = field(validator=_check_positive)
    status: RefundStatus = field()
    refunded_total: Money = field(validator=_check_not_negative)
    created_at: Instant = field(converter=_instant, validator=_check_instant)

    def __attrs_post_init__(self) -> None:
        if self.created_at is None:
            raise ValidationError("created_at must be a time", code="payment.time", field="created_at")

    @status.validator
    def _check_status(self, _attribute: Any, value: Any) -> None:
        if not isinstance(value, RefundStatus):
            raise ValidationError("unknown refund status", code="payment.refund_status", field="status")


class StatementKind(enum.Enum):
    """What a line of the gateway's daily statement records: money taken or money given back."""

    PAYMENT = "payment"
    REFUND = "refund"


@frozen
class StatementLine:
    """One line of the gateway's statement of a day (WeChat trade bill, Alipay ``trade`` bill).

    A payment line names the order (``order_reference``) and the gateway's transaction id; a refund line
    also names our refund number (``out_refund_no``, given exactly for refunds) and the gateway's refund id
    in ``provider_id``.  ``amount`` is positive either way; ``at`` is when the gateway booked it.
    """

    kind: StatementKind = field()
    order_reference: str = field(validator=_check_order_reference)
    provider_id: str = field(validator=_text_check("payment.provider_id", MAX_PROVIDER_ID_CHARS))
    amount: Money = field(validator=_check_positive)
    at: Instant = field(converter=_instant, validator=_check_instant)
    out_refund_no: str | None = field(default=None)

    @kind.validator
    def _check_kind(self, _attribute: Any, value: Any) -> None:
        if not isinstance(value, StatementKind):
            raise ValidationError("a statement line is a payment or a refund", code="payment.statement_kind",
                                  field="kind")

    def __attrs_post_init__(self) -> None:
        if self.at is None:
            raise ValidationError("at must be a time", code="payment.time", field="at")
        if self.kind is StatementKind.REFUND:
            _check_refund_number(self, None, self.out_refund_no)
        elif self.out_refund_no is not None:
            raise ValidationError("a payment line has no refund number", code="payment.refund_number",
                                  field="out_refund_no")

    @property
    def business_key(self) -> str:
        """The ledger's key for what this line records: ``order:<ref>:captured`` or ``refund:<number>``
        (decision 0031)."""
        if self.kind is StatementKind.REFUND:
            return f"refund:{self.out_refund_no}"
        return f"order:{self.order_reference}:captured"


def statement_day(day: object, zone_name: str = DEFAULT_ZONE) -> tuple[Instant, Instant]:
    """The UTC bounds ``[start, end)`` of the calendar ``day`` in ``zone_name`` (23 or 25 hours across a
    daylight-saving change).  ValidationError (``payment.day``) for anything but a date, ``time.zone`` for an
    unknown zone."""
    if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
        raise ValidationError("day must be a calendar date", code="payment.day", field="day")
    tz = zone(zone_name)
    start = Instant(day.year, day.month, day.day, tzinfo=tz)
    end = start.add(days=1)
    return utc(start), utc(end)
