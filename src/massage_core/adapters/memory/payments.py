"""A deterministic, offline payment gateway for development, demos and tests.

``SandboxPaymentGateway`` keeps its own ledger of payments and refunds, as a
real gateway does on its side, and signs its callbacks the way WeChat Pay
API v3 frames them, with HMAC-SHA256 in place of SHA256withRSA:

- headers ``Sandbox-Timestamp`` (unix seconds), ``Sandbox-Nonce`` (1-64
  letters and digits) and ``Sandbox-Signature`` (standard base64 of
  HMAC-SHA256 under the sandbox secret over ``"<timestamp>\\n<nonce>\\n" +
  body + "\\n"``);
- body: compact JSON ``{"amount": {"currency", "total"}, "method",
  "out_trade_no", "paid_at", "status", "transaction_id"}`` with ``total`` in
  fen and ``paid_at`` an ISO-8601 UTC time or null.

``parse_callback`` checks, in this order: headers present and well formed
(``payment.malformed``), signature (``payment.signature``), timestamp within
5 minutes of the clock either way (``payment.stale``), then the body
(``payment.malformed``).  A nonce already verified with the same body is a
*replay* (gateways deliver at least once): it is accepted and returns an
equal notice, but it is not counted again (``distinct_notices``) and changes
nothing.  The same nonce with different content is refused
(``payment.replay``).  Nonces are remembered only while their timestamp is
inside the window; older ones would be refused as stale anyway.

Deterministic: given a fixed ``secret`` and a ``FixedClock``, every id,
nonce, signature and payload is the same from run to run (ids count up from
one per gateway).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import threading
from collections.abc import Callable, Mapping, Sequence

import attrs

from massage_core.domain.errors import Conflict, InvalidTransition, NotFound, PaymentError, ValidationError
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
    StatementKind,
    StatementLine,
    statement_day,
)
from massage_core.domain.time import DEFAULT_ZONE, Instant
from massage_core.ports.clock import Clock
from massage_core.ports.payments import PaymentGateway
from massage_core.adapters.memory.payment_wire import (
    CALLBACK_WINDOW,
    MAX_BODY_BYTES,
    NONCE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    _SIGNATURE_BYTES,
    malformed,
    read_headers,
    read_notice,
)

MIN_SECRET_BYTES = 16


def _next_statuses(status: PaymentStatus) -> frozenset[PaymentStatus]:
    """The sandbox payment lifecycle: what the provider may move a payment to from ``status``."""
    table = {
        PaymentStatus.PENDING: frozenset({PaymentStatus.PAID, PaymentStatus.FAILED, PaymentStatus.CLOSED}),
        PaymentStatus.FAILED: frozenset({PaymentStatus.PAID, PaymentStatus.FAILED, PaymentStatus.CLOSED}),
        PaymentStatus.PAID: frozenset(),
        PaymentStatus.CLOSED: frozenset(),
    }
    return table[status]


@attrs.frozen
class _Payment:
    """One ledger row of the sandbox: the request, its payload and what happened since."""

    request: PaymentRequest
    payload: PaymentPayload
    status: PaymentStatus = PaymentStatus.PENDING
    transaction_id: str | None = None
    paid_at: Instant | None = None
    refunded: Money = Money.zero()

    def record(self) -> PaymentRecord:
        return PaymentRecord(
            order_reference=self.request.order_reference,
            method=self.request.method,
            amount=self.request.amount,
            status=self.status,
            refunded=self.refunded,
            provider_transaction_id=self.transaction_id,
            paid_at=self.paid_at,
        )


@attrs.frozen
class _SeenNonce:
    timestamp: int
    digest: bytes
    notice: PaymentNotice


class SandboxPaymentGateway(PaymentGateway):
    """Plays WeChat Pay or Alipay offline: a ledger, signed callbacks, queries, idempotent refunds."""

    def __init__(self, clock: Clock, secret: bytes | None = None) -> None:
        """Sign with ``secret`` (random when None; give one for reproducible output) and read time from ``clock``."""
        if secret is None:
            secret = os.urandom(32)
        if not isinstance(secret, bytes) or len(secret) < MIN_SECRET_BYTES:
            raise ValidationError(
                f"sandbox payment secret must be at least {MIN_SECRET_BYTES} bytes", code="payment.secret"
            )
        self._secret = secret
        self._clock = clock
        self._payments: dict[str, _Payment] = {}
        self._refunds: dict[str, RefundResult] = {}
        self._nonces: dict[str, _SeenNonce] = {}
        self._sequence = 0
        self._distinct_notices = 0
        self._statement_edit: Callable[[list[StatementLine]], list[StatementLine]] | None = None
        self._lock = threading.Lock()

    # -- the port ---------------------------------------------------------

    def create_payment(self, request: PaymentRequest) -> PaymentPayload:
        """Open the payment (or return the one already open for the same order, amount, method and payer)."""
        if not isinstance(request, PaymentRequest):
            raise ValidationError("expected a PaymentRequest", code="payment.request")
        with self._lock:
            existing = self._payments.get(request.order_reference)
            if existing is not None:
                self._check_reopen(existing, request)
                return existing.payload
            payload = self._payload(request)
            self._payments[request.order_reference] = _Payment(request=request, payload=payload)
            return payload

    def parse_callback(self, headers: Mapping[str, str], body: bytes) -> PaymentNotice:
        """Verify a sandbox callback; see the module docstring for the format and the checks."""
        timestamp, nonce, signature = read_headers(headers)
        if not isinstance(body, bytes) or len(body) > MAX_BODY_BYTES:
            raise malformed(f"body must be at most {MAX_BODY_BYTES} bytes")
        if len(signature) != _SIGNATURE_BYTES or not hmac.compare_digest(signature, self._sign(timestamp, nonce, body)):
            raise PaymentError("payment callback signature does not verify", code="payment.signature")
        now = self._now_seconds()
        window = int(CALLBACK_WINDOW.total_seconds())
        if abs(now - timestamp) > window:
            raise PaymentError("payment callback timestamp is more than 5 minutes off", code="payment.stale")
        digest = hashlib.sha256(body).digest()
        with self._lock:
            self._forget_stale_nonces(now, window)
            seen = self._nonces.get(nonce)
            if seen is not None:
                if seen.timestamp != timestamp or not hmac.compare_digest(seen.digest, digest):
                    raise PaymentError("payment callback nonce was used before", code="payment.replay")
                return seen.notice
        notice = read_notice(body)
        with self._lock:
            seen = self._nonces.get(nonce)
            if seen is not None:  # a concurrent delivery of the same callback won the race
                return seen.notice
            self._nonces[nonce] = _SeenNonce(timestamp, digest, notice)
            self._distinct_notices += 1
        return notice

    def query(self, order_reference: str) -> PaymentRecord:
        """The sandbox ledger's record of the order; NotFound when it was never created."""
        with self._lock:
            return self._payment(order_reference).record()

    def refund(self, request: RefundRequest) -> RefundResult:
        """Refund at once (status succeeded); idempotent by ``out_refund_no``; see the port for the errors."""
        if not isinstance(request, RefundRequest):
            raise ValidationError("expected a RefundRequest", code="payment.request")
        with self._lock:
            earlier = self._refunds.get(request.out_refund_no)
            if earlier is not None:
                if earlier.order_reference != request.order_reference or earlier.amount != request.amount:
                    raise Conflict(
                        f"refund number {request.out_refund_no} was used for another order or amount",
                        code="payment.refund_conflict",
                    )
                return earlier
            payment = self._payment(request.order_reference)
            if payment.status is not PaymentStatus.PAID:
                raise PaymentError(
                    f"payment {request.order_reference} is {payment.status.value}, not paid", code="payment.not_paid"
                )
            if request.payment_total != payment.request.amount:
                raise PaymentError(
                    f"payment total {request.payment_total} differs from the {payment.request.amount} paid",
                    code="payment.total_mismatch",
                )
            refunded = payment.refunded + request.amount
            if payment.request.amount < refunded:
                raise PaymentError(
                    f"refund of {request.amount} exceeds the {payment.request.amount - payment.refunded} refundable",
                    code="payment.over_refund",
                )
            result = RefundResult(
                order_reference=request.order_reference,
                out_refund_no=request.out_refund_no,
                provider_refund_id=f"sandbox-refund-{self._next_sequence():08d}",
                amount=request.amount,
                status=RefundStatus.SUCCEEDED,
                refunded_total=refunded,
                created_at=self._clock.now(),
            )
            self._payments[request.order_reference] = attrs.evolve(payment, refunded=refunded)
            self._refunds[request.out_refund_no] = result
            return result

    def close(self, order_reference: str) -> PaymentRecord:
        """Close an unpaid payment; closing twice is a no-op; Conflict ``payment.already_paid`` when paid."""
        with self._lock:
            payment = self._payment(order_reference)
            if payment.status is PaymentStatus.PAID:
                raise Conflict(f"payment {order_reference} is already paid", code="payment.already_paid")
            if payment.status is not PaymentStatus.CLOSED:
                payment = attrs.evolve(payment, status=PaymentStatus.CLOSED)
                self._payments[order_reference] = payment
            return payment.record()

    def statement(self, day: dt.date, zone: str = DEFAULT_ZONE) -> Sequence[StatementLine]:
        """The sandbox's own records of ``day`` in ``zone``: every payment paid and every refund made that
        day, ordered by time (payments before refunds at the same instant), then passed through the edit
        set by ``alter_statement``, if any."""
        start, end = statement_day(day, zone)
        with self._lock:
            lines = [
                StatementLine(StatementKind.PAYMENT, p.request.order_reference, p.transaction_id, p.request.amount,
                              p.paid_at)
                for p in self._payments.values()
                if p.status is PaymentStatus.PAID and p.transaction_id is not None and p.paid_at is not None
                and start <= p.paid_at < end
            ]
            lines += [
                StatementLine(StatementKind.REFUND, r.order_reference, r.provider_refund_id, r.amount, r.created_at,
                              out_refund_no=r.out_refund_no)
                for r in self._refunds.values()
                if r.status is RefundStatus.SUCCEEDED and start <= r.created_at < end
            ]
            edit = self._statement_edit
        lines.sort(key=lambda line: line.at)
        return tuple(edit(list(lines)) if edit is not None else lines)

    # -- playing the provider --------------------------------------------

    def alter_statement(self, edit: Callable[[list[StatementLine]], list[StatementLine]] | None) -> None:
        """Play a provider whose statement disagrees with what happened: every later ``statement`` is
        passed through ``edit`` (a list of lines in, the lines to report out); None restores the truth."""
        with self._lock:
            self._statement_edit = edit

    def simulate_payment(
        self, order_reference: str, outcome: PaymentStatus = PaymentStatus.PAID
    ) -> tuple[dict[str, str], bytes]:
        """Play the customer paying (or failing, or the provider closing) and return the signed callback.

        The ledger moves to ``outcome`` (paid sets the transaction id and
        ``paid_at`` to now).  Asking again for the outcome already reached
        re-sends the notification (a fresh nonce, the same content), as a
        provider retrying delivery does.  Raises NotFound for an unknown
        order and InvalidTransition when the payment cannot reach ``outcome``.
        """
        if not isinstance(outcome, PaymentStatus) or outcome is PaymentStatus.PENDING:
            raise ValidationError("outcome must be paid, failed or closed", code="payment.status")
        with self._lock:
            payment = self._payment(order_reference)
            if payment.status is not outcome or outcome is PaymentStatus.FAILED:
                allowed = _next_statuses(payment.status)
                if outcome not in allowed:
                    raise InvalidTransition(payment.status.value, outcome.value, (s.value for s in allowed))
                payment = self._moved(payment, outcome)
                self._payments[order_reference] = payment
            nonce = self._nonce()
        body = self._callback_body(payment)
        return self.sign_callback(body, nonce=nonce), body

    def sign_callback(self, body: bytes, *, timestamp: int | None = None, nonce: str | None = None) -> dict[str, str]:
        """Headers that make ``body`` a correctly signed callback (now and a fresh nonce unless given)."""
        stamp = self._now_seconds() if timestamp is None else timestamp
        if nonce is None:
            with self._lock:
                nonce = self._nonce()
        signature = base64.b64encode(self._sign(stamp, nonce, body)).decode("ascii")
        return {TIMESTAMP_HEADER: str(stamp), NONCE_HEADER: nonce, SIGNATURE_HEADER: signature}

    @property
    def distinct_notices(self) -> int:
        """How many different callbacks ``parse_callback`` has accepted (replays not counted)."""
        with self._lock:
            return self._distinct_notices

    # -- internals ---------------------------------------------------------

    def _check_reopen(self, existing: _Payment, request: PaymentRequest) -> None:
        if existing.status is PaymentStatus.PAID:
            raise Conflict(f"payment {request.order_reference} is already paid", code="payment.already_paid")
        if existing.status is PaymentStatus.CLOSED:
            raise Conflict(f"payment {request.order_reference} was closed", code="payment.closed")
        before = existing.request
        if (before.amount, before.method, before.payer) != (request.amount, request.method, request.payer):
            raise Conflict(
                f"payment {request.order_reference} is open with another amount, method or payer",
                code="payment.conflict",
            )

    def _payload(self, request: PaymentRequest) -> PaymentPayload:
        sequence = self._next_sequence()
        stamp = str(self._now_seconds())
        nonce = self._nonce()
        if request.method is PaymentMethod.WECHAT:
            prepay_id = f"sandbox-prepay-{sequence:08d}"
            message = f"{stamp}\n{nonce}\nprepay_id={prepay_id}\n".encode("ascii")
            sign = base64.b64encode(hmac.new(self._secret, message, hashlib.sha256).digest()).decode("ascii")
            params = {"prepay_id": prepay_id, "timestamp": stamp, "nonce": nonce, "sign": sign}
            kind = "prepay"
        else:
            query = f"out_trade_no={request.order_reference}&total={request.amount.fen}&timestamp={stamp}"
            sign = hmac.new(self._secret, query.encode("ascii"), hashlib.sha256).hexdigest()
            params = {"pay_url": f"https://sandbox.invalid/alipay/pay?{query}&sign={sign}"}
            kind = "pay_url"
        return PaymentPayload(
            order_reference=request.order_reference,
            method=request.method,
            amount=request.amount,
            kind=kind,
            params=params,
        )

    def _moved(self, payment: _Payment, outcome: PaymentStatus) -> _Payment:
        if outcome is PaymentStatus.PAID:
            return attrs.evolve(
                payment,
                status=outcome,
                transaction_id=f"sandbox-{payment.request.method.value}-{self._next_sequence():08d}",
                paid_at=self._clock.now(),
            )
        return attrs.evolve(payment, status=outcome)

    def _callback_body(self, payment: _Payment) -> bytes:
        transaction_id = payment.transaction_id or f"sandbox-{payment.request.method.value}-unpaid"
        content = {
            "amount": {"currency": payment.request.amount.currency, "total": payment.request.amount.fen},
            "method": payment.request.method.value,
            "out_trade_no": payment.request.order_reference,
            "paid_at": None if payment.paid_at is None else payment.paid_at.in_timezone("UTC").isoformat(),
            "status": payment.status.value,
            "transaction_id": transaction_id,
        }
        return json.dumps(content, separators=(",", ":"), sort_keys=True).encode("utf-8")

    def _payment(self, order_reference: str) -> _Payment:
        payment = self._payments.get(order_reference) if isinstance(order_reference, str) else None
        if payment is None:
            raise NotFound("payment", str(order_reference)[:40])
        return payment

    def _sign(self, timestamp: int, nonce: str, body: bytes) -> bytes:
        message = f"{timestamp}\n{nonce}\n".encode("ascii") + body + b"\n"
        return hmac.new(self._secret, message, hashlib.sha256).digest()

    def _nonce(self) -> str:
        """A deterministic nonce (32 hex digits) from the secret and the sequence; call with the lock held."""
        sequence = self._next_sequence()
        return hmac.new(self._secret, f"nonce:{sequence}".encode("ascii"), hashlib.sha256).hexdigest()[:32]

    def _next_sequence(self) -> int:
        self._sequence += 1
        return self._sequence

    def _now_seconds(self) -> int:
        return int(self._clock.now().timestamp())

    def _forget_stale_nonces(self, now: int, window: int) -> None:
        for nonce in [n for n, seen in self._nonces.items() if abs(now - seen.timestamp) > window]:
            del self._nonces[nonce]


