"""Reconciliation (decision 0034): the sandbox's daily statement, and ``platform.ledger.reconcile`` on memory
with orders paid and refunded through the platform, then a statement the test alters line by line."""

from __future__ import annotations

import datetime as dt

import attrs
import pendulum
import pytest

from conftest import Kit, Person
from massage_core.adapters.memory.clock import FixedClock
from massage_core.adapters.memory.payments import SandboxPaymentGateway
from massage_core.domain.access import Actor
from massage_core.domain.audit import AuditOutcome
from massage_core.domain.errors import PaymentError, PermissionDenied, ValidationError
from massage_core.domain.ledger import Book, JournalEntry, LedgerAccount, credit, debit
from massage_core.domain.money import Money
from massage_core.domain.payments import (
    PaymentMethod,
    PaymentRequest,
    RefundRequest,
    StatementKind,
    StatementLine,
    statement_day,
)
from massage_core.services.reconciliation import MismatchKind
from order_kit import book, gateway, pay
from search_support import Shop

SYSTEM = Actor.system()
DAY = dt.date(2026, 1, 5)
"""The kit's clock is Monday 5 January 2026, 10:00 in Shanghai."""
CLEARING = LedgerAccount.of(Book.GATEWAY_CLEARING)
PREPAID = LedgerAccount.of(Book.CUSTOMER_PREPAYMENTS)


# -- the sandbox's statement -----------------------------------------------------------------------------------


def sandbox_at(when: pendulum.DateTime) -> tuple[SandboxPaymentGateway, FixedClock]:
    clock = FixedClock(when)
    return SandboxPaymentGateway(clock, b"statement-secret-0123"), clock


def paid(sandbox: SandboxPaymentGateway, order: str, fen: int = 10_000) -> None:
    sandbox.create_payment(PaymentRequest(order, Money(fen), PaymentMethod.WECHAT, "tuina"))
    sandbox.simulate_payment(order)


def test_the_sandbox_lists_the_payments_and_refunds_of_a_shanghai_day() -> None:
    sandbox, clock = sandbox_at(pendulum.datetime(2026, 1, 5, 23, 30, tz="Asia/Shanghai"))
    paid(sandbox, "order-late-evening", 10_000)
    sandbox.refund(RefundRequest("order-late-evening", "order-late-evening-r1", Money(4_000), Money(10_000), "x"))
    clock.advance(dt.timedelta(hours=1))  # 00:30 on the 6th in Shanghai, still the 5th in UTC
    paid(sandbox, "order-after-midnight", 5_000)
    sandbox.refund(RefundRequest("order-late-evening", "order-late-evening-r2", Money(6_000), Money(10_000), "y"))
    sandbox.create_payment(PaymentRequest("order-never-paid", Money(100), PaymentMethod.ALIPAY, "spa"))

    fifth = sandbox.statement(DAY)
    assert [(ln.kind, ln.order_reference, ln.out_refund_no, ln.amount.fen) for ln in fifth] == [
        (StatementKind.PAYMENT, "order-late-evening", None, 10_000),
        (StatementKind.REFUND, "order-late-evening", "order-late-evening-r1", 4_000)]
    assert fifth[0].provider_id.startswith("sandbox-wechat-") and fifth[1].provider_id.startswith("sandbox-refund-")
    assert [ln.business_key for ln in fifth] == ["order:order-late-evening:captured",
                                                 "refund:order-late-evening-r1"]
    sixth = sandbox.statement(dt.date(2026, 1, 6))
    assert [(ln.business_key, ln.amount.fen) for ln in sixth] == [("order:order-after-midnight:captured", 5_000),
                                                                  ("refund:order-late-evening-r2", 6_000)]
    in_utc = sandbox.statement(DAY, "UTC")  # the same instants cut by UTC days
    assert len(in_utc) == 4
    assert sandbox.statement(dt.date(2026, 1, 4)) == ()


def test_a_statement_can_be_altered_by_the_test_and_restored() -> None:
    sandbox, _ = sandbox_at(pendulum.datetime(2026, 1, 5, 12, tz="Asia/Shanghai"))
    paid(sandbox, "order-one-0001")
    sandbox.alter_statement(lambda lines: [])
    assert sandbox.statement(DAY) == ()
    sandbox.alter_statement(None)
    assert len(sandbox.statement(DAY)) == 1


def test_statement_days_and_zones_are_validated() -> None:
    sandbox, _ = sandbox_at(pendulum.datetime(2026, 1, 5, 12, tz="Asia/Shanghai"))
    with pytest.raises(ValidationError) as bad_day:
        sandbox.statement(dt.datetime(2026, 1, 5, tzinfo=dt.UTC))  # type: ignore[arg-type]
    assert bad_day.value.code == "payment.day"
    with pytest.raises(ValidationError) as bad_zone:
        sandbox.statement(DAY, "Mars/Olympus")
    assert bad_zone.value.code == "time.zone"
    assert statement_day(DAY) == (pendulum.datetime(2026, 1, 4, 16), pendulum.datetime(2026, 1, 5, 16))


def test_statement_lines_are_validated() -> None:
    at = pendulum.datetime(2026, 1, 5, 4)
    with pytest.raises(ValidationError) as no_number:
        StatementLine(StatementKind.REFUND, "order-one-0001", "r-1", Money(1), at)
    assert no_number.value.code == "payment.refund_number"
    with pytest.raises(ValidationError):
        StatementLine(StatementKind.PAYMENT, "order-one-0001", "t-1", Money(1), at, out_refund_no="n1")
    with pytest.raises(ValidationError) as zero:
        StatementLine(StatementKind.PAYMENT, "order-one-0001", "t-1", Money(0), at)
    assert zero.value.code == "payment.amount"
    with pytest.raises(ValidationError):
        StatementLine("payment", "order-one-0001", "t-1", Money(1), at)  # type: ignore[arg-type]


# -- reconcile on memory ---------------------------------------------------------------------------------------


def two_orders(kit: Kit, shop: Shop, therapist: Person, customer: Person) -> tuple[str, str]:
    """One order paid, one paid and then cancelled by the customer (refunded in full): three statement lines."""
    p = kit.platform
    kept = book(p, customer.actor, therapist.account_id, shop.tuina).id
    pay(p, kept)
    cancelled = book(p, customer.actor, therapist.account_id, shop.spa,
                     start=pendulum.datetime(2026, 1, 6, 14, tz="Asia/Shanghai")).id
    pay(p, cancelled)
    kit.clock.advance(dt.timedelta(minutes=5))
    p.orders.cancel(customer.actor, cancelled, "plans changed")
    return kept, cancelled


def test_a_day_paid_and_refunded_through_the_platform_reconciles(kit: Kit, shop: Shop, therapist: Person,
                                                                 customer: Person) -> None:
    kept, cancelled = two_orders(kit, shop, therapist, customer)
    statement = gateway(kit.platform).statement(DAY)
    assert [ln.kind for ln in statement] == [StatementKind.PAYMENT, StatementKind.PAYMENT, StatementKind.REFUND]
    finance = kit.admin("finance")
    report = kit.platform.ledger.reconcile(finance.actor, DAY)
    assert report.ok and (report.statement_lines, report.ledger_entries, report.matched) == (3, 3, 3)
    assert report.mismatches == () and report.other_entries == 0
    last = kit.audit_entries()[-1]
    assert (last.action, last.target, last.outcome) == ("ledger.reconcile", "2026-01-05", AuditOutcome.OK)
    assert dict(last.details)["mismatches"] == "0"
    assert kit.platform.ledger.reconcile(SYSTEM, dt.date(2026, 1, 6)).statement_lines == 0


def test_every_alteration_of_the_statement_is_named(kit: Kit, shop: Shop, therapist: Person,
                                                    customer: Person) -> None:
    kept, cancelled = two_orders(kit, shop, therapist, customer)
    sandbox = gateway(kit.platform)
    invented = StatementLine(StatementKind.PAYMENT, "order-nobody-booked", "sandbox-wechat-99999999",
                             Money(12_300), pendulum.datetime(2026, 1, 5, 3))

    def alter(lines: list[StatementLine]) -> list[StatementLine]:
        by_key = {ln.business_key: ln for ln in lines}
        refund = next(ln for ln in lines if ln.kind is StatementKind.REFUND)
        changed = attrs.evolve(by_key[f"order:{cancelled}:captured"], amount=Money(1))
        return [changed, refund, refund, invented]  # the kept order's payment dropped

    sandbox.alter_statement(alter)
    report = kit.platform.ledger.reconcile(kit.admin("auditor").actor, DAY)
    found = {(m.kind, m.key) for m in report.mismatches}
    refund_key = next(ln.business_key for ln in sandbox.statement(DAY) if ln.kind is StatementKind.REFUND)
    assert found == {(MismatchKind.AMOUNT_DIFFERS, f"order:{cancelled}:captured"),
                     (MismatchKind.DUPLICATE, refund_key),
                     (MismatchKind.MISSING, "order:order-nobody-booked:captured"),
                     (MismatchKind.EXTRA, f"order:{kept}:captured")}
    assert not report.ok and report.matched == 1
    differs = next(m for m in report.mismatches if m.kind is MismatchKind.AMOUNT_DIFFERS)
    assert differs.statement == Money(1) and differs.ledger is not None and differs.ledger.fen > 1
    missing = next(m for m in report.mismatches if m.kind is MismatchKind.MISSING)
    assert (missing.statement, missing.ledger) == (Money(12_300), None) and "no ledger entry" in str(missing)
    extra = next(m for m in report.mismatches if m.kind is MismatchKind.EXTRA)
    assert extra.statement is None and extra.ledger is not None
    assert dict(kit.audit_entries()[-1].details)["mismatches"] == "4"


def test_an_entry_posted_on_another_day_is_missing_with_a_reason(kit: Kit) -> None:
    sandbox = gateway(kit.platform)
    sandbox.create_payment(PaymentRequest("order-yesterday", Money(500), PaymentMethod.ALIPAY, "spa"))
    sandbox.simulate_payment("order-yesterday")
    with kit.platform.deps.uow() as uow:
        uow.ledger.post(JournalEntry("order:order-yesterday:captured", pendulum.datetime(2026, 1, 4, 3),
                                     (debit(CLEARING, Money(500)), credit(PREPAID, Money(500)))))
        uow.ledger.post(JournalEntry("bonus:b1", pendulum.datetime(2026, 1, 5, 3),
                                     (debit(CLEARING, Money(7)), credit(PREPAID, Money(7)))))
        uow.commit()
    report = kit.platform.ledger.reconcile(SYSTEM, DAY)
    assert [(m.kind, m.key, m.ledger) for m in report.mismatches] == [
        (MismatchKind.MISSING, "order:order-yesterday:captured", Money(500))]
    assert "posted on another day" in report.mismatches[0].detail
    assert report.other_entries == 1  # the bonus touches clearing under another key: counted, not compared


def test_reconcile_needs_ledger_read_and_passes_on_gateway_errors(kit: Kit, customer: Person,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(PermissionDenied):
        kit.platform.ledger.reconcile(customer.actor, DAY)
    assert kit.audit_entries()[-1].outcome is AuditOutcome.DENIED

    def unsupported(day: dt.date, zone: str = "Asia/Shanghai") -> list[StatementLine]:
        raise PaymentError("no bills here", code="payment.unsupported")

    monkeypatch.setattr(gateway(kit.platform), "statement", unsupported)
    with pytest.raises(PaymentError) as refused:
        kit.platform.ledger.reconcile(SYSTEM, DAY)
    assert refused.value.code == "payment.unsupported"
    with pytest.raises(ValidationError):
        kit.platform.ledger.reconcile(SYSTEM, "2026-01-05")  # type: ignore[arg-type]
