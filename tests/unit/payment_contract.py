"""The PaymentGateway contract: every adapter (sandbox, WeChat Pay, Alipay) behaves like this.

A test module subclasses ``PaymentGatewayContract`` with a name starting
``Test`` and provides:

- a ``clock`` fixture returning the ``FixedClock`` the gateway reads;
- a ``gateway`` fixture returning the adapter under test, wired to that clock
  (and, for a real adapter, to a local stub of the provider);
- ``pay(gateway, order_reference)``: make the provider take the customer's
  money for an open payment and return the callback it sends
  (headers, body).

An adapter for one method only sets ``method``; one that carries its
signature outside the headers (Alipay: a ``sign`` form field) overrides
``with_wrong_signature`` and ``without_signature``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextlib import AbstractContextManager
from datetime import date, timedelta

import pytest

from massage_core.adapters.memory.clock import FixedClock
from massage_core.domain.errors import Conflict, NotFound, PaymentError, ValidationError
from massage_core.domain.money import Money
from massage_core.domain.payments import (
    PaymentMethod,
    PaymentRequest,
    PaymentStatus,
    RefundRequest,
    RefundStatus,
)
from massage_core.ports.payments import PaymentGateway

ORDER = "ord_01JAAAAAAAAAAAAAAAAAAAAAAA"
OTHER_ORDER = "ord_01JBBBBBBBBBBBBBBBBBBBBBBB"
PRICE = Money.yuan(198)


def request(order: str = ORDER, amount: Money = PRICE, method: PaymentMethod = PaymentMethod.WECHAT) -> PaymentRequest:
    return PaymentRequest(order_reference=order, amount=amount, method=method, description="Swedish massage 60 min")


def refund(out_refund_no: str, amount: Money, order: str = ORDER, total: Money = PRICE) -> RefundRequest:
    return RefundRequest(
        order_reference=order, out_refund_no=out_refund_no, amount=amount, payment_total=total, reason="cancelled"
    )


def signature_header(headers: Mapping[str, str]) -> str:
    """The name of the header carrying the signature, whatever the adapter calls it.

    Only a name ending in "signature" counts: WeChat Pay also sends
    ``Wechatpay-Signature-Type``, which names the algorithm.
    """
    (name,) = [name for name in headers if name.lower().endswith("signature")]
    return name


def payment_error(code: str) -> AbstractContextManager[pytest.ExceptionInfo[PaymentError]]:
    """Expect a PaymentError with exactly ``code``."""
    return pytest.raises(PaymentError, match=rf"^\[{re.escape(code)}\]")


class PaymentGatewayContract:
    """Behaviour every PaymentGateway adapter shares."""

    #: The payment method the adapter under test takes (the sandbox takes both).
    method: PaymentMethod = PaymentMethod.WECHAT

    def request(self, order: str = ORDER, amount: Money = PRICE) -> PaymentRequest:
        return request(order, amount, self.method)

    def other_method(self) -> PaymentMethod:
        return PaymentMethod.ALIPAY if self.method is PaymentMethod.WECHAT else PaymentMethod.WECHAT

    def with_wrong_signature(self, headers: Mapping[str, str], body: bytes) -> tuple[Mapping[str, str], bytes]:
        """The callback with its signature changed (first character); by default in a header."""
        name = signature_header(headers)
        value = headers[name]
        return {**headers, name: ("A" if value[0] != "A" else "B") + value[1:]}, body

    def without_signature(self, headers: Mapping[str, str], body: bytes) -> tuple[Mapping[str, str], bytes]:
        """The callback with its signature removed; by default a header."""
        name = signature_header(headers)
        return {k: v for k, v in headers.items() if k != name}, body

    def pay(self, gateway: PaymentGateway, order_reference: str) -> tuple[Mapping[str, str], bytes]:
        """Have the provider take the money and return its callback; subclasses implement it."""
        raise NotImplementedError

    def paid(self, gateway: PaymentGateway, order: str = ORDER, amount: Money = PRICE) -> None:
        gateway.create_payment(self.request(order, amount))
        gateway.parse_callback(*self.pay(gateway, order))

    # -- create and query ---------------------------------------------------

    def test_create_payment_returns_a_payload_for_the_order(self, gateway: PaymentGateway) -> None:
        payload = gateway.create_payment(self.request())
        assert (payload.order_reference, payload.method, payload.amount) == (ORDER, self.method, PRICE)
        assert payload.kind and payload.as_dict()
        record = gateway.query(ORDER)
        assert (record.status, record.amount, record.refunded) == (PaymentStatus.PENDING, PRICE, Money.zero())
        assert record.provider_transaction_id is None and record.paid_at is None

    def test_create_payment_again_is_idempotent(self, gateway: PaymentGateway) -> None:
        first = gateway.create_payment(self.request())
        assert gateway.create_payment(self.request()) == first

    def test_create_payment_with_other_terms_conflicts(self, gateway: PaymentGateway) -> None:
        gateway.create_payment(self.request())
        with pytest.raises(Conflict) as caught:
            gateway.create_payment(self.request(amount=Money.yuan(1)))
        assert caught.value.code == "payment.conflict"
        with pytest.raises(Conflict):
            gateway.create_payment(request(method=self.other_method()))
        assert gateway.query(ORDER).amount == PRICE

    def test_query_unknown_order_is_not_found(self, gateway: PaymentGateway) -> None:
        with pytest.raises(NotFound) as caught:
            gateway.query(OTHER_ORDER)
        assert caught.value.kind == "payment"

    # -- callbacks ----------------------------------------------------------

    def test_callback_returns_exactly_what_was_paid(self, gateway: PaymentGateway, clock: FixedClock) -> None:
        gateway.create_payment(self.request())
        notice = gateway.parse_callback(*self.pay(gateway, ORDER))
        assert (notice.order_reference, notice.amount, notice.method) == (ORDER, PRICE, self.method)
        assert notice.status is PaymentStatus.PAID and notice.paid_at == clock.now()
        record = gateway.query(ORDER)
        assert record.status is PaymentStatus.PAID
        assert record.provider_transaction_id == notice.provider_transaction_id
        assert record.paid_at == notice.paid_at

    def test_header_names_are_case_insensitive(self, gateway: PaymentGateway) -> None:
        gateway.create_payment(self.request())
        headers, body = self.pay(gateway, ORDER)
        lowered = {name.lower(): value for name, value in headers.items()}
        assert gateway.parse_callback(lowered, body).order_reference == ORDER

    def test_replayed_callback_returns_an_equal_notice(self, gateway: PaymentGateway) -> None:
        gateway.create_payment(self.request())
        headers, body = self.pay(gateway, ORDER)
        first = gateway.parse_callback(headers, body)
        for _ in range(3):
            assert gateway.parse_callback(headers, body) == first
        assert gateway.query(ORDER).status is PaymentStatus.PAID

    @pytest.mark.parametrize("position", [0, 10, -2])
    def test_tampered_body_is_refused(self, gateway: PaymentGateway, position: int) -> None:
        gateway.create_payment(self.request())
        headers, body = self.pay(gateway, ORDER)
        tampered = bytearray(body)
        tampered[position] ^= 0x01
        with payment_error("payment.signature"):
            gateway.parse_callback(headers, bytes(tampered))
        if b"19800" in body:  # a clear-text amount (encrypting adapters are covered by the flips above)
            with payment_error("payment.signature"):
                gateway.parse_callback(headers, body.replace(b"19800", b"19900"))

    def test_wrong_or_missing_signature_is_refused(self, gateway: PaymentGateway) -> None:
        gateway.create_payment(self.request())
        headers, body = self.pay(gateway, ORDER)
        with payment_error("payment.signature"):
            gateway.parse_callback(*self.with_wrong_signature(headers, body))
        with payment_error("payment.signature"):
            gateway.parse_callback(*self.without_signature(headers, body))

    @pytest.mark.parametrize("seconds", [301, -301, 3600, -86400])
    def test_stale_timestamp_is_refused(self, gateway: PaymentGateway, clock: FixedClock, seconds: int) -> None:
        gateway.create_payment(self.request())
        headers, body = self.pay(gateway, ORDER)
        clock.advance(timedelta(seconds=seconds))
        with payment_error("payment.stale"):
            gateway.parse_callback(headers, body)

    @pytest.mark.parametrize("seconds", [300, -300])
    def test_timestamp_within_five_minutes_is_accepted(
        self, gateway: PaymentGateway, clock: FixedClock, seconds: int
    ) -> None:
        gateway.create_payment(self.request())
        headers, body = self.pay(gateway, ORDER)
        clock.advance(timedelta(seconds=seconds))
        assert gateway.parse_callback(headers, body).order_reference == ORDER

    def test_create_after_payment_is_refused(self, gateway: PaymentGateway) -> None:
        self.paid(gateway)
        with pytest.raises(Conflict) as caught:
            gateway.create_payment(self.request())
        assert caught.value.code == "payment.already_paid"

    # -- close --------------------------------------------------------------

    def test_close_unpaid_payment_is_idempotent_and_final(self, gateway: PaymentGateway) -> None:
        gateway.create_payment(self.request())
        assert gateway.close(ORDER).status is PaymentStatus.CLOSED
        assert gateway.close(ORDER).status is PaymentStatus.CLOSED
        with pytest.raises(Conflict) as caught:
            gateway.create_payment(self.request())
        assert caught.value.code == "payment.closed"

    def test_close_paid_payment_conflicts(self, gateway: PaymentGateway) -> None:
        self.paid(gateway)
        with pytest.raises(Conflict) as caught:
            gateway.close(ORDER)
        assert caught.value.code == "payment.already_paid"
        with pytest.raises(NotFound):
            gateway.close(OTHER_ORDER)

    # -- refunds ------------------------------------------------------------

    def test_partial_then_full_refund(self, gateway: PaymentGateway) -> None:
        self.paid(gateway)
        first = gateway.refund(refund("rf-1", Money.yuan(98)))
        assert (first.amount, first.refunded_total, first.order_reference) == (Money.yuan(98), Money.yuan(98), ORDER)
        assert first.status in (RefundStatus.SUCCEEDED, RefundStatus.PROCESSING)
        second = gateway.refund(refund("rf-2", Money.yuan(100)))
        assert second.refunded_total == PRICE
        assert first.provider_refund_id != second.provider_refund_id
        record = gateway.query(ORDER)
        assert (record.refunded, record.refundable) == (PRICE, Money.zero())

    def test_over_refund_is_refused_and_changes_nothing(self, gateway: PaymentGateway) -> None:
        self.paid(gateway)
        gateway.refund(refund("rf-1", Money.yuan(150)))
        with payment_error("payment.over_refund"):
            gateway.refund(refund("rf-2", Money.yuan(48, 1)))
        assert gateway.query(ORDER).refunded == Money.yuan(150)
        assert gateway.refund(refund("rf-2", Money.yuan(48))).refunded_total == PRICE
        with payment_error("payment.over_refund"):
            gateway.refund(refund("rf-3", Money(1)))

    def test_refund_is_idempotent_by_refund_number(self, gateway: PaymentGateway) -> None:
        self.paid(gateway)
        first = gateway.refund(refund("rf-1", Money.yuan(50)))
        assert gateway.refund(refund("rf-1", Money.yuan(50))) == first
        assert gateway.query(ORDER).refunded == Money.yuan(50)

    def test_refund_number_reused_for_other_amount_or_order_conflicts(self, gateway: PaymentGateway) -> None:
        self.paid(gateway)
        self.paid(gateway, OTHER_ORDER)
        gateway.refund(refund("rf-1", Money.yuan(50)))
        for clash in (refund("rf-1", Money.yuan(60)), refund("rf-1", Money.yuan(50), order=OTHER_ORDER)):
            with pytest.raises(Conflict) as caught:
                gateway.refund(clash)
            assert caught.value.code == "payment.refund_conflict"
        assert gateway.query(ORDER).refunded == Money.yuan(50)
        assert gateway.query(OTHER_ORDER).refunded == Money.zero()

    def test_refund_of_unpaid_or_unknown_payment_is_refused(self, gateway: PaymentGateway) -> None:
        gateway.create_payment(self.request())
        with payment_error("payment.not_paid"):
            gateway.refund(refund("rf-1", Money.yuan(1)))
        with pytest.raises(NotFound):
            gateway.refund(refund("rf-2", Money.yuan(1), order=OTHER_ORDER))

    def test_refund_with_wrong_payment_total_is_refused(self, gateway: PaymentGateway) -> None:
        self.paid(gateway)
        with payment_error("payment.total_mismatch"):
            gateway.refund(refund("rf-1", Money.yuan(1), total=Money.yuan(199)))
        assert gateway.query(ORDER).refunded == Money.zero()

    def test_statement_checks_its_day_and_zone(self, gateway: PaymentGateway) -> None:
        # What every adapter does (decision 0034); the sandbox's lines are tested in test_reconciliation.py,
        # the real adapters' bills in test_real_gateway_statements.py (decision 0035).
        with pytest.raises(ValidationError) as bad_day:
            gateway.statement("2026-01-05")  # type: ignore[arg-type]
        assert bad_day.value.code == "payment.day"
        with pytest.raises(ValidationError) as bad_zone:
            gateway.statement(date(2026, 1, 5), "Nowhere/Special")
        assert bad_zone.value.code == "time.zone"
