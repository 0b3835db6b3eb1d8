"""``platform.ledger.reconcile`` on SQLite and PostgreSQL (decision 0034): a day of payments and a refund made
through the platform reconciles; the sandbox's statement altered by the test names every mismatch."""

from __future__ import annotations

import datetime as dt

import attrs
import pendulum

from massage_core.bootstrap import Platform
from massage_core.domain.access import Actor
from massage_core.domain.money import Money
from massage_core.domain.payments import StatementKind, StatementLine
from massage_core.services.reconciliation import MismatchKind
from test_orders_sql import LAT, LNG, START, gateway, people

SYSTEM = Actor.system()
DAY = dt.date(2026, 1, 5)


def test_reconcile_on_sql(platform: Platform) -> None:
    service, customer, serving, _ = people(platform)
    assert serving.account_id is not None
    made = []
    for hour in (0, 2):
        booked = platform.orders.book(customer, therapist=serving.account_id, service=service,
                                      start=START.add(hours=hour), lat=LAT, lng=LNG)
        platform.orders.payment_callback(*gateway(platform).simulate_payment(booked.id))
        made.append(booked.id)
    kept, cancelled = made
    platform.orders.cancel(customer, cancelled, "plans changed")

    report = platform.ledger.reconcile(SYSTEM, DAY)
    assert report.ok and (report.statement_lines, report.ledger_entries, report.matched) == (3, 3, 3)
    [refund_key] = [ln.business_key for ln in gateway(platform).statement(DAY) if ln.kind is StatementKind.REFUND]

    invented = StatementLine(StatementKind.REFUND, kept, "sandbox-refund-99999999", Money(100),
                             pendulum.datetime(2026, 1, 5, 4), out_refund_no=f"{kept}-r9")

    def alter(lines: list[StatementLine]) -> list[StatementLine]:
        payments = [ln for ln in lines if ln.kind is StatementKind.PAYMENT and ln.order_reference == kept]
        return [attrs.evolve(p, amount=p.amount + Money(1)) for p in payments] + [invented]  # others dropped

    gateway(platform).alter_statement(alter)
    found = {(m.kind, m.key) for m in platform.ledger.reconcile(SYSTEM, DAY).mismatches}
    assert found == {(MismatchKind.AMOUNT_DIFFERS, f"order:{kept}:captured"),
                     (MismatchKind.MISSING, f"refund:{kept}-r9"),
                     (MismatchKind.EXTRA, f"order:{cancelled}:captured"),
                     (MismatchKind.EXTRA, refund_key)}

