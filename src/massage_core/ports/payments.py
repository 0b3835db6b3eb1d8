"""The PaymentGateway port: take money for an order, learn that it was paid, refund it.

One adapter per gateway (the sandbox, WeChat Pay API v3, Alipay).  Orders
are known to the gateway by our order reference (``out_trade_no``); refunds
by our refund number (``out_refund_no`` / ``out_request_no``), so every
call is safe to retry.

Errors common to every method: ``ValidationError`` for a malformed argument
(codes ``payment.*``); ``PaymentError`` (code ``payment.unavailable``) when
the gateway cannot be reached or answers something unusable; nothing is
known to have changed at the gateway then, and the call may be retried.
``PaymentError`` (code ``payment.refused``) when the gateway answered with
a refusal the port has no code for (our credentials, permissions, an
unknown error code; the provider's code is in the message): retrying the
same call will not help.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Mapping, Sequence

from massage_core.domain.payments import (
    PaymentNotice,
    PaymentPayload,
    PaymentRecord,
    PaymentRequest,
    RefundRequest,
    RefundResult,
    StatementLine,
)
from massage_core.domain.time import DEFAULT_ZONE


class PaymentGateway(abc.ABC):
    """A payment provider as the order and money services need it."""

    @abc.abstractmethod
    def create_payment(self, request: PaymentRequest) -> PaymentPayload:
        """Open (or reopen) the payment of ``request.order_reference`` and return what the client app needs.

        Idempotent: the same request again returns an equivalent payload for
        the same gateway order.  Raises ``Conflict`` with code
        ``payment.conflict`` when the order reference is already open with a
        different amount or method, ``payment.already_paid`` when it is paid,
        ``payment.closed`` when it was closed.
        """

    @abc.abstractmethod
    def parse_callback(self, headers: Mapping[str, str], body: bytes) -> PaymentNotice:
        """Verify an asynchronous payment notification and return exactly what the gateway signed.

        ``headers`` are the HTTP request headers (names are matched without
        regard to case) and ``body`` the raw request body.  Changes nothing at
        the gateway.  Gateways deliver notifications at least once, so the
        same notification may arrive again: a replay returns an equal notice,
        and the caller applies it idempotently (keyed by order reference and
        provider transaction id).  The notice is NOT compared with our order:
        amount, currency and order reference are the caller's to check.

        Raises ``PaymentError`` on anything untrusted: code
        ``payment.signature`` (missing or wrong signature, unknown key),
        ``payment.stale`` (timestamp more than 5 minutes away from now, either
        way), ``payment.malformed`` (missing headers, oversized or unreadable
        body, fields of the wrong shape), ``payment.replay`` (a nonce seen
        before with different content), ``payment.mismatch`` (a real adapter's
        notice for another merchant or app id than the one it is configured
        with).
        """

    @abc.abstractmethod
    def query(self, order_reference: str) -> PaymentRecord:
        """Ask the gateway where the payment of ``order_reference`` stands (status, amount, refunded so far).

        Used when a callback is late or lost and for reconciliation.  Raises
        ``NotFound`` (kind ``payment``) when the gateway has no such order.
        """

    @abc.abstractmethod
    def refund(self, request: RefundRequest) -> RefundResult:
        """Refund part or all of a paid order; idempotent by ``request.out_refund_no``.

        The same refund number with the same order and amount returns the
        first result again and moves no more money.  Raises ``Conflict``
        (code ``payment.refund_conflict``) when the refund number was used
        with a different order or amount; ``NotFound`` (kind ``payment``) for
        an unknown order; ``PaymentError`` with code ``payment.not_paid`` when
        the order is not paid, ``payment.total_mismatch`` when
        ``payment_total`` is not what was paid, and ``payment.over_refund``
        when this refund would take the refunds of the order above what was
        paid.  A refused refund changes nothing.
        """

    @abc.abstractmethod
    def close(self, order_reference: str) -> PaymentRecord:
        """Close an unpaid payment so it can no longer be paid (an order expired or was cancelled).

        Idempotent: closing a closed payment returns its record.  Raises
        ``NotFound`` (kind ``payment``) for an unknown order and ``Conflict``
        (code ``payment.already_paid``) when it was paid meanwhile: the
        caller must then refund instead.
        """

    @abc.abstractmethod
    def statement(self, day: dt.date, zone: str = DEFAULT_ZONE) -> Sequence[StatementLine]:
        """The gateway's statement of the calendar ``day`` in ``zone``: one line per payment captured and per
        refund that succeeded that day (by when the gateway booked it), in the order the gateway lists them.

        Used by reconciliation (``LedgerService.reconcile``, decision 0034); changes nothing.  Raises
        ``ValidationError`` (``payment.day``, ``time.zone``) for a bad day or zone, and ``PaymentError``
        with code ``payment.unsupported`` from an adapter that cannot fetch statements; the WeChat Pay and
        Alipay adapters download the day's trade bill and add ``payment.statement_hash`` and
        ``payment.statement_malformed`` (decision 0035).
        """
