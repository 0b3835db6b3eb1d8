"""WeChat Pay v3 JSON <-> the port's values: transactions, refunds, states, times.

Readers are strict: a field of the wrong type or shape raises the
``error`` factory given (``payment.malformed`` for callbacks,
``payment.unavailable`` for answers to our calls).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

import pendulum

from massage_core.domain.errors import PaymentError, ValidationError
from massage_core.domain.money import Money
from massage_core.domain.payments import (
    PaymentMethod,
    PaymentNotice,
    PaymentRecord,
    PaymentRequest,
    PaymentStatus,
    RefundResult,
    RefundStatus,
)
from massage_core.domain.time import Instant

ErrorFactory = Callable[[str], PaymentError]
T = TypeVar("T")

#: ``trade_state`` -> the port's status (REFUND: paid, refunds are counted apart).
TRADE_STATES: Mapping[str, PaymentStatus] = {
    "SUCCESS": PaymentStatus.PAID,
    "REFUND": PaymentStatus.PAID,
    "NOTPAY": PaymentStatus.PENDING,
    "USERPAYING": PaymentStatus.PENDING,
    "PAYERROR": PaymentStatus.FAILED,
    "CLOSED": PaymentStatus.CLOSED,
    "REVOKED": PaymentStatus.CLOSED,
}
REFUND_STATES: Mapping[str, RefundStatus] = {
    "SUCCESS": RefundStatus.SUCCEEDED,
    "PROCESSING": RefundStatus.PROCESSING,
    "CLOSED": RefundStatus.FAILED,
    "ABNORMAL": RefundStatus.FAILED,
}
BEIJING = "Asia/Shanghai"
CURRENCY = "CNY"


def rfc3339(when: Instant) -> str:
    """``when`` as WeChat writes times: RFC 3339 in Beijing time, whole seconds (2026-01-05T10:00:00+08:00)."""
    return when.in_timezone(BEIJING).replace(microsecond=0).isoformat()


def transaction_request(request: PaymentRequest, appid: str, mchid: str, notify_url: str) -> dict[str, Any]:
    """The JSON of a JSAPI (with payer) or App (without) transaction for ``request``."""
    body: dict[str, Any] = {
        "appid": appid,
        "mchid": mchid,
        "description": request.description,
        "out_trade_no": request.order_reference,
        "notify_url": notify_url,
        "amount": {"total": request.amount.fen, "currency": request.amount.currency},
    }
    if request.expires_at is not None:
        body["time_expire"] = rfc3339(request.expires_at)
    if request.payer is not None:
        body["payer"] = {"openid": request.payer}
    return body


def _get(data: Any, key: str, kind: type, error: ErrorFactory) -> Any:
    value = data.get(key) if isinstance(data, dict) else None
    if type(value) is not kind:
        raise error(f"{key} is missing or not {kind.__name__}")
    return value


def _time(text: Any, error: ErrorFactory) -> Instant:
    try:
        parsed = datetime.fromisoformat(text) if isinstance(text, str) and len(text) <= 40 else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.utcoffset() is None:
        raise error("a time is not RFC 3339 with an offset")
    return pendulum.instance(parsed).in_timezone("UTC")


def _amount(data: Any, key: str, error: ErrorFactory) -> Money:
    amount = _get(data, "amount", dict, error)
    value = _get(amount, key, int, error)
    currency = amount.get("currency", CURRENCY)
    if currency != CURRENCY or value <= 0:
        raise error(f"amount.{key} must be a positive number of CNY fen")
    return Money(value, CURRENCY)


def _built(make: Callable[[], T], error: ErrorFactory) -> T:
    try:
        return make()
    except ValidationError as exc:
        raise error(exc.message) from None


def transaction_parts(data: Any, error: ErrorFactory) -> tuple[str, str, str, PaymentStatus, Money]:
    """(appid, mchid, out_trade_no, status, amount) of a transaction (callback plaintext or query answer)."""
    state = _get(data, "trade_state", str, error)
    if state not in TRADE_STATES:
        raise error(f"unknown trade_state {state[:20]!r}")
    return (_get(data, "appid", str, error), _get(data, "mchid", str, error),
            _get(data, "out_trade_no", str, error), TRADE_STATES[state], _amount(data, "total", error))


def notice(data: Any, error: ErrorFactory) -> PaymentNotice:
    """The notice a verified, decrypted transaction callback announces (never pending)."""
    _appid, _mchid, reference, status, amount = transaction_parts(data, error)
    if status is PaymentStatus.PENDING:
        raise error("a callback cannot announce a pending payment")
    paid_at = _time(data.get("success_time"), error) if status is PaymentStatus.PAID else None
    return _built(lambda: PaymentNotice(
        method=PaymentMethod.WECHAT,
        provider_transaction_id=_get(data, "transaction_id", str, error),
        order_reference=reference,
        amount=amount,
        status=status,
        paid_at=paid_at,
    ), error)


def record(data: Any, refunded: Money, error: ErrorFactory) -> PaymentRecord:
    """The record a query answer describes; ``refunded`` comes from the adapter's refund book."""
    _appid, _mchid, reference, status, amount = transaction_parts(data, error)
    paid = status is PaymentStatus.PAID
    transaction_id = _get(data, "transaction_id", str, error) if paid else None
    paid_at = _time(data.get("success_time"), error) if paid else None
    return _built(lambda: PaymentRecord(
        order_reference=reference,
        method=PaymentMethod.WECHAT,
        amount=amount,
        status=status,
        refunded=min(refunded, amount) if paid else Money.zero(),
        provider_transaction_id=transaction_id,
        paid_at=paid_at,
    ), error)


def refund_parts(data: Any, error: ErrorFactory) -> tuple[str, str, str, Money, RefundStatus, Instant]:
    """(out_trade_no, out_refund_no, refund_id, amount, status, created_at) of a refund answer."""
    state = _get(data, "status", str, error)
    if state not in REFUND_STATES:
        raise error(f"unknown refund status {state[:20]!r}")
    return (_get(data, "out_trade_no", str, error), _get(data, "out_refund_no", str, error),
            _get(data, "refund_id", str, error), _amount(data, "refund", error), REFUND_STATES[state],
            _time(data.get("create_time"), error))


def refund_result(parts: tuple[str, str, str, Money, RefundStatus, Instant], refunded_total: Money,
                  error: ErrorFactory) -> RefundResult:
    reference, number, refund_id, amount, status, created_at = parts
    return _built(lambda: RefundResult(
        order_reference=reference,
        out_refund_no=number,
        provider_refund_id=refund_id,
        amount=amount,
        status=status,
        refunded_total=refunded_total,
        created_at=created_at,
    ), error)
