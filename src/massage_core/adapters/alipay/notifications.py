"""Reading Alipay's asynchronous notifications (``trade_status_sync``): verify first, then interpret.

Checks, in this order, each with its own code:

1. the body is a strict UTF-8 form (``payment.malformed``);
2. ``sign`` present, ``sign_type`` exactly ``RSA2`` and the RSA2 signature
   over every other parameter, sorted and URL-decoded, verifies with the
   Alipay public key (``payment.signature``) -- nothing unauthenticated is
   interpreted;
3. ``app_id`` and ``seller_id`` are ours (``payment.mismatch``);
4. ``notify_type``, ``charset``, ``version``, ``notify_id``, ``notify_time``
   have the expected shape (``payment.malformed``);
5. ``notify_time`` within 5 minutes of the clock either way (``payment.stale``);
6. a ``notify_id`` seen before with other content (``payment.replay``);
7. the trade fields: ``out_trade_no``, ``trade_no``, ``trade_status``,
   ``total_amount`` (yuan text to exact fen) and ``gmt_payment``
   (``payment.malformed``).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Mapping
from datetime import timedelta

import attrs

from massage_core.adapters.alipay.config import AlipayConfig
from massage_core.adapters.alipay.signing import notification_content, verify
from massage_core.adapters.alipay.wire import (
    TRADE_STATUSES,
    malformed,
    parse_amount,
    parse_refund_time,
    parse_time,
    parsed,
    read_form,
)
from massage_core.domain.errors import PaymentError, ValidationError
from massage_core.domain.money import Money
from massage_core.domain.payments import PaymentMethod, PaymentNotice, PaymentStatus
from massage_core.domain.time import Instant
from massage_core.ports.clock import Clock

CALLBACK_WINDOW = timedelta(minutes=5)
#: notify_ids remembered at most (only verified, fresh ones enter; the oldest go first beyond this).
MAX_REMEMBERED = 50_000
MAX_NOTIFY_ID_CHARS = 128
#: Amount fields a trade notification may carry besides total_amount; each must be well formed when present.
OTHER_AMOUNTS = ("receipt_amount", "invoice_amount", "buyer_pay_amount", "point_amount", "refund_fee",
                 "send_back_fee")


@attrs.frozen
class _Seen:
    notify_time: Instant
    digest: bytes
    notice: PaymentNotice


@attrs.frozen
class VerifiedNotification:
    """A notification whose signature and merchant verified; ``stale`` when outside the window."""

    form: dict[str, str]
    notify_time: Instant
    stale: bool


class NotificationReader:
    """Verifies notifications for one app and merchant and remembers notify_ids while they are fresh."""

    def __init__(self, config: AlipayConfig, clock: Clock) -> None:
        self._config = config
        self._clock = clock
        self._seen: dict[str, _Seen] = {}
        self._lock = threading.Lock()
        self.distinct_notices = 0

    def verified(self, headers: Mapping[str, str], body: bytes) -> VerifiedNotification:
        """Steps 1-5: a notification Alipay signed for us, with its notify_time; PaymentError otherwise."""
        if not isinstance(headers, Mapping):
            raise malformed("headers must be a mapping")
        form = read_form(body)
        signature = form.get("sign", "")
        if not signature:
            raise PaymentError("Alipay notification is not signed", code="payment.signature")
        if form.get("sign_type") != "RSA2":
            raise PaymentError("Alipay notification must be signed RSA2", code="payment.signature")
        if not verify(self._config.public_key, notification_content(form), signature):
            raise PaymentError("Alipay notification signature does not verify", code="payment.signature")
        for key, ours in (("app_id", self._config.app_id), ("seller_id", self._config.seller_id)):
            if key not in form:
                raise malformed(f"{key} is missing")
            if form[key] != ours:
                raise PaymentError(f"Alipay notification is for another {key}", code="payment.mismatch")
        if form.get("notify_type") != "trade_status_sync":
            raise malformed("notify_type must be trade_status_sync")
        if form.get("charset", "utf-8").lower() != "utf-8" or form.get("version", "1.0") != "1.0":
            raise malformed("charset must be utf-8 and version 1.0")
        notify_id = form.get("notify_id", "")
        if not 0 < len(notify_id) <= MAX_NOTIFY_ID_CHARS or not notify_id.isascii():
            raise malformed(f"notify_id must be 1-{MAX_NOTIFY_ID_CHARS} ASCII characters")
        notify_time = parsed(parse_time, form, "notify_time")
        assert isinstance(notify_time, Instant)
        stale = abs(self._clock.now() - notify_time) > CALLBACK_WINDOW
        return VerifiedNotification(form=form, notify_time=notify_time, stale=stale)

    def notice(self, verified: VerifiedNotification) -> PaymentNotice:
        """Steps 6-7 for a fresh notification: an equal notice for a replay, PaymentError otherwise."""
        form = verified.form
        notify_id = form["notify_id"]
        digest = hashlib.sha256(notification_content(form).encode("utf-8")).digest()
        now = self._clock.now()
        with self._lock:
            self._forget(now)
            seen = self._seen.get(notify_id)
            if seen is not None:
                if not hmac.compare_digest(seen.digest, digest):
                    raise PaymentError("Alipay notify_id was used before with other content", code="payment.replay")
                return seen.notice
        notice = read_notice(form)
        with self._lock:
            seen = self._seen.get(notify_id)
            if seen is not None:  # a concurrent delivery won the race
                if not hmac.compare_digest(seen.digest, digest):
                    raise PaymentError("Alipay notify_id was used before with other content", code="payment.replay")
                return seen.notice
            self._seen[notify_id] = _Seen(verified.notify_time, digest, notice)
            self.distinct_notices += 1
            while len(self._seen) > MAX_REMEMBERED:
                del self._seen[min(self._seen, key=lambda key: self._seen[key].notify_time)]
        return notice

    @property
    def remembered(self) -> int:
        """How many notify_ids are remembered now."""
        with self._lock:
            return len(self._seen)

    def _forget(self, now: Instant) -> None:
        for key in [k for k, seen in self._seen.items() if abs(now - seen.notify_time) > CALLBACK_WINDOW]:
            del self._seen[key]


def read_notice(form: dict[str, str]) -> PaymentNotice:
    """The trade fields of a verified notification as a PaymentNotice; ``payment.malformed`` otherwise."""
    status_text = form.get("trade_status", "")
    if status_text not in TRADE_STATUSES or status_text == "WAIT_BUYER_PAY":
        raise malformed("trade_status must be TRADE_SUCCESS, TRADE_FINISHED or TRADE_CLOSED")
    amount = parsed(parse_amount, form, "total_amount")
    for key in OTHER_AMOUNTS:
        parsed(parse_amount, form, key, optional=True)
    paid_at = parsed(parse_time, form, "gmt_payment", optional=True)
    for key in ("gmt_create", "gmt_close"):
        parsed(parse_time, form, key, optional=True)
    parsed(parse_refund_time, form, "gmt_refund", optional=True)
    status = TRADE_STATUSES[status_text]
    if status is PaymentStatus.CLOSED and paid_at is not None:
        status = PaymentStatus.PAID  # closed after a full refund: it was paid; refunds are counted apart
    if status is PaymentStatus.PAID and paid_at is None:
        raise malformed("gmt_payment is missing for a paid trade")
    assert isinstance(amount, Money)
    try:
        return PaymentNotice(
            method=PaymentMethod.ALIPAY,
            provider_transaction_id=form.get("trade_no", ""),
            order_reference=form.get("out_trade_no", ""),
            amount=amount,
            status=status,
            paid_at=paid_at if status is PaymentStatus.PAID else None,
        )
    except ValidationError as exc:
        raise malformed(exc.message) from None
