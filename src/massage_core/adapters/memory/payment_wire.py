"""The sandbox gateway's callback wire format: headers and body, read strictly.

See ``adapters.memory.payments`` for the format; these functions only parse
what was already received and raise PaymentError (``payment.malformed`` or
``payment.signature``) for anything that does not have the expected shape.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import pendulum

from massage_core.domain.errors import PaymentError, ValidationError
from massage_core.domain.money import Money
from massage_core.domain.payments import PaymentMethod, PaymentNotice, PaymentStatus
from massage_core.domain.time import Instant

MIN_SECRET_BYTES = 16
MAX_BODY_BYTES = 16 * 1024
MAX_NONCE_CHARS = 64
#: Callbacks whose timestamp is further than this from the clock, either way, are refused.
CALLBACK_WINDOW = timedelta(minutes=5)
TIMESTAMP_HEADER = "Sandbox-Timestamp"
NONCE_HEADER = "Sandbox-Nonce"
SIGNATURE_HEADER = "Sandbox-Signature"
_SIGNATURE_BYTES = hashlib.sha256().digest_size
_BODY_KEYS = frozenset({"amount", "method", "out_trade_no", "paid_at", "status", "transaction_id"})


def malformed(what: str) -> PaymentError:
    return PaymentError(f"payment callback is malformed: {what}", code="payment.malformed")


def read_headers(headers: Mapping[str, str]) -> tuple[int, str, bytes]:
    """(timestamp, nonce, signature) from the callback headers; PaymentError when missing or malformed."""
    if not isinstance(headers, Mapping):
        raise malformed("headers must be a mapping")
    folded: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise malformed("header names and values must be text")
        key = name.lower()
        if key in folded and folded[key] != value:
            raise malformed(f"header {name} given twice")
        folded[key] = value
    signature_text = folded.get(SIGNATURE_HEADER.lower())
    if not signature_text:
        raise PaymentError("payment callback is not signed", code="payment.signature")
    stamp = folded.get(TIMESTAMP_HEADER.lower(), "")
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
        raise malformed(f"{TIMESTAMP_HEADER} must be unix seconds")
    nonce = folded.get(NONCE_HEADER.lower(), "")
    if not (0 < len(nonce) <= MAX_NONCE_CHARS and nonce.isascii() and nonce.isalnum()):
        raise malformed(f"{NONCE_HEADER} must be 1-{MAX_NONCE_CHARS} letters and digits")
    try:
        signature = base64.b64decode(signature_text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise PaymentError("payment callback signature is not base64", code="payment.signature") from None
    return int(stamp), nonce, signature


def read_notice(body: bytes) -> PaymentNotice:
    """Read a verified body; PaymentError ``payment.malformed`` when its fields have the wrong shape."""
    try:
        data: Any = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise malformed("body is not JSON") from None
    if not isinstance(data, dict) or set(data) != _BODY_KEYS:
        raise malformed("body fields are wrong")
    amount = data["amount"]
    if not isinstance(amount, dict) or set(amount) != {"currency", "total"} or type(amount["total"]) is not int:
        raise malformed("amount must be {currency, total in fen}")
    try:
        return PaymentNotice(
            method=_parsed(PaymentMethod, data["method"]),
            provider_transaction_id=data["transaction_id"],
            order_reference=data["out_trade_no"],
            amount=Money(amount["total"], amount["currency"]),
            status=_parsed(PaymentStatus, data["status"]),
            paid_at=None if data["paid_at"] is None else _parsed(_utc_time, data["paid_at"]),
        )
    except ValidationError as exc:
        raise malformed(exc.message) from None

def _utc_time(text: Any) -> Instant:
    if not isinstance(text, str):
        raise ValueError("not a time")
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError("not an aware time")
    return pendulum.instance(parsed).in_timezone("UTC")


def _parsed(kind: Callable[[Any], Any], value: Any) -> Any:
    """``kind(value)``, with any ValueError/TypeError reported as a malformed callback."""
    try:
        return kind(value)
    except (ValueError, TypeError):
        raise malformed(f"unreadable value {str(value)[:40]!r}") from None
