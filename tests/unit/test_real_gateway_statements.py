"""Real daily statements (decision 0035): the WeChat Pay and Alipay adapters download the day's trade bill from
the local stubs -- which write it, in the provider's format, from the payments and refunds they actually
processed -- and ``platform.ledger.reconcile`` compares it with the ledger.

The same tests run against both gateways: ``Real`` knows, per provider, how to pay, how a bill row names its
order and amount, and how to alter the bill the stub serves (rows edited before the provider hashes/zips it:
the provider's own bill disagrees; bytes tampered after: a corrupted download).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pendulum
import pytest
from attrs import define

from alipay_kit import RecordingGateway, gateway_for, open_and_pay
from alipay_stub import AlipayStub
from conftest import Kit, Person, fast_hasher
from massage_core.adapters.memory.clock import FixedClock
from massage_core.adapters.memory.ids import SequentialIdGenerator
from massage_core.adapters.wechatpay import WeChatPayGateway
from massage_core.bootstrap import Platform
from massage_core.domain.errors import PaymentError, ValidationError
from massage_core.domain.money import Money
from massage_core.domain.payments import PaymentMethod, PaymentRequest, RefundRequest, StatementKind
from massage_core.ports.payments import PaymentGateway
from massage_core.services.reconciliation import MismatchKind
from order_kit import book
from search_support import Shop
from wechatpay_kit import OPENID, config, make_stub
from wechatpay_stub import WeChatPayStub

DAY = dt.date(2026, 1, 5)
Rows = list[list[str]]


@define
class Real:
    """One real adapter wired to its stub, and what a test needs to know about that provider's bill."""

    name: str
    gateway: PaymentGateway
    stub: WeChatPayStub | AlipayStub
    method: PaymentMethod
    customer_pays: Callable[[str], tuple[dict[str, str], bytes]]
    reference_column: int
    provider_id_column: int
    amount_columns: tuple[int, ...]

    def open_and_pay(self, reference: str, fen: int) -> None:
        payer = OPENID if self.method is PaymentMethod.WECHAT else None
        self.gateway.create_payment(PaymentRequest(reference, Money(fen), self.method, "上门推拿 60分钟", payer=payer))
        self.customer_pays(reference)

    def is_payment(self, row: list[str]) -> bool:
        return row[9] == "SUCCESS" if self.name == "wechat" else row[2] == "交易"

    def edit_rows(self, edit: Callable[[Rows], Rows] | None) -> None:
        self.stub.bill_edit = edit

    def tamper(self, tamper: Callable[[bytes], bytes] | None) -> None:
        self.stub.bill_tamper = tamper


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


@pytest.fixture(params=["wechat", "alipay"])
def real(request: pytest.FixtureRequest, clock: FixedClock) -> Iterator[Real]:
    if request.param == "wechat":
        with make_stub(clock).serving() as wechat:
            yield Real("wechat", WeChatPayGateway(config(wechat.url), clock), wechat, PaymentMethod.WECHAT,
                       lambda reference: wechat.pay(reference), 6, 5, (12,))
        return
    alipay = AlipayStub(clock)
    gateway: RecordingGateway = gateway_for(alipay, clock)
    try:
        yield Real("alipay", gateway, alipay, PaymentMethod.ALIPAY,
                   lambda reference: open_and_pay(alipay, gateway, reference), 1, 0, (11, 12))
    finally:
        alipay.stop()


# -- the statement equals what the provider processed ----------------------------------------------------------


def test_the_statement_lists_exactly_what_was_paid_and_refunded(real: Real, clock: FixedClock) -> None:
    clock.set(pendulum.datetime(2026, 1, 5, 9, 15, tz="Asia/Shanghai"))
    real.open_and_pay("order-morning-01", 12_345)  # odd fen: 123.45 yuan must come back as 12345 fen
    clock.advance(dt.timedelta(hours=2))
    real.gateway.refund(RefundRequest("order-morning-01", "order-morning-01-r1", Money(1_001), Money(12_345), "a"))
    clock.set(pendulum.datetime(2026, 1, 5, 23, 59, 30, tz="Asia/Shanghai"))
    real.open_and_pay("order-late-evening", 19_800)
    clock.set(pendulum.datetime(2026, 1, 6, 0, 0, 30, tz="Asia/Shanghai"))
    real.gateway.refund(RefundRequest("order-late-evening", "order-late-evening-r1", Money(19_800), Money(19_800),
                                      "b"))
    clock.advance(dt.timedelta(minutes=1))
    real.open_and_pay("order-next-day-1", 1)

    fifth = real.gateway.statement(DAY)
    assert [(ln.kind, ln.order_reference, ln.out_refund_no, ln.amount.fen) for ln in fifth] == [
        (StatementKind.PAYMENT, "order-morning-01", None, 12_345),
        (StatementKind.REFUND, "order-morning-01", "order-morning-01-r1", 1_001),
        (StatementKind.PAYMENT, "order-late-evening", None, 19_800)]
    assert fifth[0].at == pendulum.datetime(2026, 1, 5, 1, 15) and fifth[2].at == pendulum.datetime(2026, 1, 5, 15,
                                                                                                     59, 30)
    paid = real.gateway.query("order-morning-01")
    assert fifth[0].provider_id == paid.provider_transaction_id
    sixth = real.gateway.statement(dt.date(2026, 1, 6))
    assert [(ln.business_key, ln.amount.fen) for ln in sixth] == [("refund:order-late-evening-r1", 19_800),
                                                                  ("order:order-next-day-1:captured", 1)]
    # A UTC day straddles two Beijing bills: the 5th in UTC is 08:00 on the 5th to 08:00 on the 6th in Beijing.
    utc_fifth = real.gateway.statement(DAY, "UTC")
    assert [ln.business_key for ln in utc_fifth] == [
        "order:order-morning-01:captured", "refund:order-morning-01-r1", "order:order-late-evening:captured",
        "refund:order-late-evening-r1", "order:order-next-day-1:captured"]
    assert real.gateway.statement(dt.date(2026, 1, 4)) == ()  # no bill that day: an empty statement


def test_statement_arguments_are_checked_before_anything_is_sent(real: Real) -> None:
    with pytest.raises(ValidationError) as bad_zone:
        real.gateway.statement(DAY, "Nowhere/Special")
    assert bad_zone.value.code == "time.zone"
    with pytest.raises(ValidationError) as bad_day:
        real.gateway.statement("2026-01-05")  # type: ignore[arg-type]
    assert bad_day.value.code == "payment.day"


def test_a_corrupted_download_is_refused_whole(real: Real) -> None:
    real.open_and_pay("order-corrupt-01", 5_000)
    expected = "payment.statement_hash" if real.name == "wechat" else "payment.statement_malformed"

    def flip(data: bytes) -> bytes:  # one byte of the bill itself (after the hash or inside the zip's data)
        index = len(data) // 3
        return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1:]

    real.tamper(flip)
    with pytest.raises(PaymentError) as refused:
        real.gateway.statement(DAY)
    assert refused.value.code == expected
    real.tamper(lambda data: data[: len(data) // 2])  # a truncated download
    with pytest.raises(PaymentError) as truncated:
        real.gateway.statement(DAY)
    assert truncated.value.code == expected
    real.tamper(None)
    assert [ln.business_key for ln in real.gateway.statement(DAY)] == ["order:order-corrupt-01:captured"]


def test_a_bill_answer_with_a_bad_signature_is_refused(real: Real) -> None:
    real.open_and_pay("order-signed-01", 5_000)
    if isinstance(real.stub, WeChatPayStub):
        real.stub.faults.append("bad_signature")
    else:
        real.stub.fail_next("bad_sign")
    with pytest.raises(PaymentError) as refused:
        real.gateway.statement(DAY)
    assert refused.value.code == "payment.unavailable" and "verif" in str(refused.value)
    assert len(real.gateway.statement(DAY)) == 1  # the next, correctly signed answer is read


# -- reconciliation through the platform ----------------------------------------------------------------------


@pytest.fixture
def kit(real: Real, clock: FixedClock) -> Kit:
    platform = Platform.in_memory(clock=clock, ids=SequentialIdGenerator(), hasher=fast_hasher(),
                                  payment_gateway=real.gateway)
    return Kit(platform, clock)


def pay(kit: Kit, real: Real, order: str) -> None:
    kit.platform.orders.payment_callback(*real.customer_pays(order))


def two_orders(kit: Kit, real: Real, shop: Shop, therapist: Person, customer: Person) -> tuple[str, str]:
    """One order paid, one paid and cancelled (refunded in full through the gateway): three bill rows."""
    p = kit.platform
    method = real.method.value
    kept = book(p, customer.actor, therapist.account_id, shop.tuina, method=method).id
    pay(kit, real, kept)
    cancelled = book(p, customer.actor, therapist.account_id, shop.spa, method=method,
                     start=pendulum.datetime(2026, 1, 6, 14, tz="Asia/Shanghai")).id
    pay(kit, real, cancelled)
    kit.clock.advance(dt.timedelta(minutes=5))
    p.orders.cancel(customer.actor, cancelled, "plans changed")
    return kept, cancelled


def test_a_clean_day_reconciles_against_the_real_bill(kit: Kit, real: Real, shop: Shop, therapist: Person,
                                                      customer: Person) -> None:
    kept, cancelled = two_orders(kit, real, shop, therapist, customer)
    report = kit.platform.ledger.reconcile(kit.admin("finance").actor, DAY)
    assert report.ok, report.mismatches
    assert (report.statement_lines, report.ledger_entries, report.matched) == (3, 3, 3)
    lines = real.gateway.statement(DAY)
    assert {ln.business_key for ln in lines} == {f"order:{kept}:captured", f"order:{cancelled}:captured",
                                                 next(ln.business_key for ln in lines if ln.out_refund_no)}
    assert kit.platform.ledger.reconcile(kit.admin("auditor").actor, dt.date(2026, 1, 4)).ok  # no bill, no entry


def test_every_disagreement_of_the_real_bill_is_named(kit: Kit, real: Real, shop: Shop, therapist: Person,
                                                      customer: Person) -> None:
    kept, cancelled = two_orders(kit, real, shop, therapist, customer)
    ref, pid = real.reference_column, real.provider_id_column

    def alter(rows: Rows) -> Rows:
        payments = {row[ref]: row for row in rows if real.is_payment(row)}
        refund = next(row for row in rows if not real.is_payment(row))
        cheaper = list(payments[cancelled])
        for column in real.amount_columns:
            cheaper[column] = _yuan(1)
        foreign = list(payments[cancelled])
        foreign[ref], foreign[pid] = "order-nobody-booked", foreign[pid][:-4] + "9999"
        for column in real.amount_columns:
            foreign[column] = _yuan(12_300)
        return [cheaper, refund, refund, foreign]  # the kept order's payment row removed

    real.edit_rows(alter)
    report = kit.platform.ledger.reconcile(kit.admin("finance").actor, DAY)
    refund_key = next(ln.business_key for ln in real.gateway.statement(DAY) if ln.kind is StatementKind.REFUND)
    assert {(m.kind, m.key) for m in report.mismatches} == {
        (MismatchKind.AMOUNT_DIFFERS, f"order:{cancelled}:captured"),
        (MismatchKind.DUPLICATE, refund_key),
        (MismatchKind.MISSING, "order:order-nobody-booked:captured"),
        (MismatchKind.EXTRA, f"order:{kept}:captured")}
    differs = next(m for m in report.mismatches if m.kind is MismatchKind.AMOUNT_DIFFERS)
    assert differs.statement == Money(1) and differs.ledger is not None and differs.ledger.fen > 1
    missing = next(m for m in report.mismatches if m.kind is MismatchKind.MISSING)
    assert missing.statement == Money(12_300) and "no ledger entry" in missing.detail
    assert not report.ok and report.matched == 1
    real.edit_rows(None)
    assert kit.platform.ledger.reconcile(kit.admin("finance").actor, DAY).ok


def test_reconcile_refuses_an_untrustworthy_bill_and_audits_nothing_as_ok(kit: Kit, real: Real, shop: Shop,
                                                                          therapist: Person,
                                                                          customer: Person) -> None:
    two_orders(kit, real, shop, therapist, customer)
    real.tamper(lambda data: data + b"\x00" * 3 if real.name == "wechat" else data[:-7])
    finance = kit.admin("finance")
    before = len(kit.audit_entries())
    with pytest.raises(PaymentError) as refused:
        kit.platform.ledger.reconcile(finance.actor, DAY)
    assert refused.value.code in ("payment.statement_hash", "payment.statement_malformed")
    assert [e.action for e in kit.audit_entries()[before:]] == []  # nothing reconciled, nothing recorded as done
