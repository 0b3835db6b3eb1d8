"""Alipay wire values read and written strictly: amounts in yuan, Beijing times, form bodies, statuses, error codes."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

import pendulum

from massage_core.adapters.alipay.transport import unavailable
from massage_core.domain.errors import Conflict, MassageError, NotFound, PaymentError
from massage_core.domain.money import Money
from massage_core.domain.payments import PaymentStatus
from massage_core.domain.time import Instant

#: Alipay times are "yyyy-MM-dd HH:mm:ss" in Beijing time (Asia/Shanghai, UTC+8, no DST since 1991).
ALIPAY_ZONE = "Asia/Shanghai"
MAX_NOTIFICATION_BYTES = 16 * 1024
MAX_PARAMETERS = 64
_AMOUNT = re.compile(r"^(0|[1-9][0-9]{0,9})(?:\.([0-9]{1,2}))?$", re.ASCII)
_TIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$", re.ASCII)
#: gmt_refund carries milliseconds: "yyyy-MM-dd HH:mm:ss.S".
_FRACTION = re.compile(r"^(.{19})\.[0-9]{1,3}$", re.ASCII)
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$", re.ASCII)

#: trade_status -> (status before any payment, status once paid).  TRADE_CLOSED after a payment is a full refund:
#: the payment stays paid and refunds are counted apart (decision 17); without one it is closed unpaid.
TRADE_STATUSES = {
    "WAIT_BUYER_PAY": PaymentStatus.PENDING,
    "TRADE_SUCCESS": PaymentStatus.PAID,
    "TRADE_FINISHED": PaymentStatus.PAID,
    "TRADE_CLOSED": PaymentStatus.CLOSED,
}


def malformed(what: str) -> PaymentError:
    return PaymentError(f"Alipay notification is malformed: {what}", code="payment.malformed")


def format_amount(amount: Money) -> str:
    """Fen as Alipay's yuan text with two decimals: 19800 -> "198.00"."""
    whole, part = divmod(amount.fen, 100)
    return f"{whole}.{part:02d}"


def parse_amount(text: object) -> Money:
    """Yuan text ("198", "198.5", "198.00") as exact fen; ValueError for anything else (signs, exponents, spaces)."""
    match = _AMOUNT.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"not an amount in yuan: {str(text)[:24]!r}")
    return Money(int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0")))


def format_time(when: Instant) -> str:
    """An instant as Alipay's Beijing "yyyy-MM-dd HH:mm:ss"."""
    return pendulum.instance(when).in_timezone(ALIPAY_ZONE).strftime("%Y-%m-%d %H:%M:%S")


def parse_refund_time(text: object) -> Instant:
    """``gmt_refund``: "yyyy-MM-dd HH:mm:ss.S" (milliseconds, truncated to the second) or without the fraction."""
    match = _FRACTION.fullmatch(text) if isinstance(text, str) else None
    return parse_time(match.group(1) if match else text)


def parse_time(text: object) -> Instant:
    """Alipay's Beijing "yyyy-MM-dd HH:mm:ss" as a UTC instant; ValueError otherwise."""
    if not isinstance(text, str) or not _TIME.fullmatch(text):
        raise ValueError(f"not an Alipay time: {str(text)[:24]!r}")
    naive = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    return pendulum.instance(naive, tz=ALIPAY_ZONE).in_timezone("UTC")


def read_form(body: bytes) -> dict[str, str]:
    """A form-encoded UTF-8 body as a dict; PaymentError ``payment.malformed`` for anything unreadable.

    Strict: ASCII on the wire, every pair ``key=value``, valid percent escapes
    of valid UTF-8, lowercase keys, no key twice, at most 64 parameters.
    """
    if not isinstance(body, bytes) or not 0 < len(body) <= MAX_NOTIFICATION_BYTES:
        raise malformed(f"body must be 1-{MAX_NOTIFICATION_BYTES} bytes")
    if not body.isascii():
        raise malformed("body must be URL-encoded ASCII")
    text = body.decode("ascii")
    if re.search(r"%(?![0-9A-Fa-f]{2})", text):
        raise malformed("bad percent escape")
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True, encoding="utf-8", errors="strict",
                          max_num_fields=MAX_PARAMETERS)
    except (ValueError, UnicodeDecodeError):
        raise malformed("not a form of key=value pairs in UTF-8") from None
    form: dict[str, str] = {}
    for key, value in pairs:
        if not _KEY.fullmatch(key):
            raise malformed(f"bad parameter name {key[:24]!r}")
        if key in form:
            raise malformed(f"parameter {key} given twice")
        if not value.isprintable():
            raise malformed(f"parameter {key} has control characters")
        form[key] = value
    return form


def parsed(kind: Callable[[str], object], form: dict[str, str], key: str, *, optional: bool = False) -> object:
    """``kind(form[key])`` with a missing key or a ValueError reported as ``payment.malformed``."""
    if key not in form or form[key] == "":
        if optional:
            return None
        raise malformed(f"{key} is missing")
    try:
        return kind(form[key])
    except (ValueError, TypeError, MassageError):
        raise malformed(f"{key} is not readable") from None


#: Business failures that pass: Alipay's own trouble, or the merchant balance short for a refund (top up, retry).
RETRYABLE = frozenset({"ACQ.SYSTEM_ERROR", "AQC.SYSTEM_ERROR", "ACQ.SELLER_BALANCE_NOT_ENOUGH",
                       "ACQ.REFUND_CHARGE_ERROR"})


def business_error(sub_code: str, sub_msg: str, order_reference: str) -> MassageError:
    """The port's error for an Alipay business failure (code 40004) ``sub_code``."""
    message = f"Alipay refused: {sub_code} {sub_msg}"[:200]
    if sub_code == "ACQ.TRADE_NOT_EXIST":
        return NotFound("payment", order_reference)
    if sub_code == "ACQ.TRADE_HAS_SUCCESS":
        return Conflict(message, code="payment.already_paid")
    if sub_code in ("ACQ.TRADE_HAS_CLOSE", "ACQ.TRADE_CLOSED"):
        return Conflict(message, code="payment.closed")
    if sub_code in ("ACQ.CONTEXT_INCONSISTENT",):
        return Conflict(message, code="payment.conflict")
    if sub_code == "ACQ.DISCORDANT_REPEAT_REQUEST":
        return Conflict(message, code="payment.refund_conflict")
    if sub_code == "ACQ.TRADE_STATUS_ERROR":
        return PaymentError(message, code="payment.not_paid")
    if sub_code in ("ACQ.REASON_TRADE_REFUND_FEE_ERR", "ACQ.REFUND_FEE_ERROR", "ACQ.TRADE_HAS_FINISHED",
                    "ACQ.REFUND_AMT_RESTRICTION"):
        return PaymentError(message, code="payment.over_refund")
    if sub_code == "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL":
        return PaymentError(message, code="payment.total_mismatch")
    if sub_code in RETRYABLE:
        return PaymentError(message, code="payment.unavailable")
    # ACQ.INVALID_PARAMETER, ACQ.ACCESS_FORBIDDEN, ... and anything unknown: refused, nothing changed at Alipay,
    # retrying the same call will not help (the same code as the WeChat Pay adapter).
    return PaymentError(message, code="payment.refused")


# -- reading verified answers: anything unreadable makes the answer unusable ------------------------


def answer_amount(content: Mapping[str, Any], key: str) -> Money:
    try:
        return parse_amount(content.get(key))
    except (ValueError, MassageError):
        raise unavailable(f"{key} unreadable in the answer") from None


def answer_text(content: Mapping[str, Any], key: str) -> str:
    value = content.get(key)
    if not isinstance(value, str) or not 0 < len(value) <= 64 or not value.isprintable():
        raise unavailable(f"{key} unreadable in the answer")
    return value


def answer_time(text: str) -> Instant:
    try:
        return parse_time(text)
    except ValueError:
        raise unavailable(f"unreadable time {text[:24]!r} in the answer") from None


def refund_id(trade_no: str, out_request_no: str) -> str:
    """Alipay has no refund id: the refund is (trade_no, out_request_no); hashed when that exceeds 64 characters."""
    joined = f"{trade_no}-{out_request_no}"
    if len(joined) <= 64:
        return joined
    return f"{trade_no[:30]}-{hashlib.sha256(out_request_no.encode()).hexdigest()[:33]}"
