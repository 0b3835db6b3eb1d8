"""The InvoiceRepository contract: round trips (personal and company titles, every state), one live invoice
per order (also under concurrent requests), optimistic locking, and the three lists."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import attrs
import pytest

from massage_core.domain.errors import Conflict, MassageError, NotFound
from massage_core.domain.ids import AccountId
from massage_core.domain.invoices import Invoice, InvoiceId, InvoiceState, InvoiceTitle
from massage_core.domain.money import Money
from massage_core.domain.order_states import OrderId
from massage_core.ports.unit_of_work import UnitOfWork
from order_support import paid, placed
from schedule_support import new_therapist
from storage_support import T0, new_id

UowFactory = Callable[[], UnitOfWork]
CODE = "91350500676532779B"
"""A real, published unified social credit code (it satisfies both check characters)."""


def paid_order(uow_factory: UowFactory, customer: AccountId) -> OrderId:
    order = paid(placed(customer, None))
    with uow_factory() as uow:
        uow.orders.add(order)
        uow.commit()
    return order.id


def request(order: OrderId, customer: AccountId, *, at: dt.datetime = T0, company: bool = False) -> Invoice:
    title = InvoiceTitle.company("厦门某某科技有限公司", CODE) if company else InvoiceTitle.personal("张三")
    return Invoice.request(new_id("invoice"), order, customer, title, "Zhang.San@Example.com", at)


def add(uow_factory: UowFactory, *invoices: Invoice) -> list[Invoice]:
    with uow_factory() as uow:
        added = [uow.invoices.add(i) for i in invoices]
        uow.commit()
    return added


def issued(invoice: Invoice) -> Invoice:
    return invoice.issue("2026010500000001", dt.date(2026, 1, 5), Money(19_801), Money(19_801),
                         T0 + timedelta(hours=1))


def save(uow_factory: UowFactory, invoice: Invoice) -> Invoice:
    with uow_factory() as uow:
        saved = uow.invoices.save(invoice)
        uow.commit()
    return saved


class InvoiceRepositoryContract:
    """Every InvoiceRepository adapter behaves like this."""

    def test_invoices_round_trip_exactly_in_every_state(self, uow_factory: UowFactory) -> None:
        customer = new_therapist(uow_factory)
        personal = request(paid_order(uow_factory, customer), customer)
        company = request(paid_order(uow_factory, customer), customer, company=True)
        added = add(uow_factory, personal, company)
        assert added == [attrs.evolve(personal, version=1), attrs.evolve(company, version=1)]
        assert added[0].email == "zhang.san@example.com"
        done = save(uow_factory, issued(added[1]))
        voided = save(uow_factory, done.void("wrong company name", T0 + timedelta(hours=2)))
        with uow_factory() as uow:
            assert uow.invoices.get(personal.id) == added[0]
            got = uow.invoices.get(company.id)
        assert got == voided and got.version == 3 and got.state is InvoiceState.VOIDED
        assert got.title.credit_code is not None and str(got.title.credit_code) == CODE
        assert got.amount == Money(19_801) and got.issued_on == dt.date(2026, 1, 5)
        assert got.number == "2026010500000001" and got.void_reason == "wrong company name"

    def test_an_unknown_invoice_is_not_found(self, uow_factory: UowFactory) -> None:
        with uow_factory() as uow, pytest.raises(NotFound):
            uow.invoices.get(InvoiceId(new_id("invoice")))

    def test_an_order_has_one_live_invoice_and_a_voided_one_makes_room(self, uow_factory: UowFactory) -> None:
        customer = new_therapist(uow_factory)
        order = paid_order(uow_factory, customer)
        (first,) = add(uow_factory, request(order, customer))
        with uow_factory() as uow:
            with pytest.raises(Conflict) as err:
                uow.invoices.add(request(order, customer, at=T0 + timedelta(minutes=1)))
            assert err.value.code == "invoice.exists"
            assert [i.id for i in uow.invoices.for_order(order)] == [first.id]  # the unit is still usable
        with uow_factory() as uow, pytest.raises(Conflict) as dup:
            uow.invoices.add(first)
        assert dup.value.code == "invoice.duplicate"
        save(uow_factory, first.void("wrong title", T0 + timedelta(minutes=2)))
        (second,) = add(uow_factory, request(order, customer, at=T0 + timedelta(minutes=3)))
        with uow_factory() as uow:
            assert [i.id for i in uow.invoices.for_order(order)] == [first.id, second.id]
            assert uow.invoices.for_order(OrderId(new_id("order"))) == []

    def test_a_stale_or_unknown_save_is_refused_and_changes_nothing(self, uow_factory: UowFactory) -> None:
        customer = new_therapist(uow_factory)
        (stored,) = add(uow_factory, request(paid_order(uow_factory, customer), customer))
        save(uow_factory, issued(stored))
        with uow_factory() as uow:
            with pytest.raises(Conflict) as err:
                uow.invoices.save(stored.void("late", T0 + timedelta(hours=3)))
            assert err.value.code == "conflict.stale"
            with pytest.raises(NotFound):
                uow.invoices.save(request(OrderId(new_id("order")), customer))
            assert uow.invoices.get(stored.id).state is InvoiceState.ISSUED

    def test_lists_by_customer_newest_first_and_by_state_oldest_first(self, uow_factory: UowFactory) -> None:
        me, other = new_therapist(uow_factory), new_therapist(uow_factory)
        mine = [request(paid_order(uow_factory, me), me, at=T0 + timedelta(minutes=n)) for n in range(3)]
        theirs = request(paid_order(uow_factory, other), other, at=T0 + timedelta(minutes=10))
        add(uow_factory, *mine, theirs)
        save(uow_factory, issued(attrs.evolve(mine[1], version=1)))
        with uow_factory() as uow:
            assert [i.id for i in uow.invoices.list_for_customer(me)] == [m.id for m in reversed(mine)]
            assert [i.id for i in uow.invoices.list_for_customer(me, offset=1, limit=1)] == [mine[1].id]
            queue = uow.invoices.list_by_state(InvoiceState.REQUESTED)
            assert [i.id for i in queue] == [mine[0].id, mine[2].id, theirs.id]
            assert [i.id for i in uow.invoices.list_by_state(InvoiceState.ISSUED)] == [mine[1].id]
            assert uow.invoices.list_by_state(InvoiceState.VOIDED) == []
            assert [i.id for i in uow.invoices.list_by_state(InvoiceState.REQUESTED, offset=2)] == [theirs.id]

    def test_concurrent_requests_for_one_order_leave_one_live_invoice(self, uow_factory: UowFactory) -> None:
        customer = new_therapist(uow_factory)
        order = paid_order(uow_factory, customer)

        def attempt(n: int) -> str:
            try:
                add(uow_factory, request(order, customer, at=T0 + timedelta(seconds=n)))
            except MassageError as exc:
                return exc.code
            return "ok"

        with ThreadPoolExecutor(max_workers=4) as pool:
            outcomes = list(pool.map(attempt, range(6)))
        assert outcomes.count("ok") == 1
        assert set(outcomes) - {"ok"} <= {"invoice.exists", "conflict.busy"}
        with uow_factory() as uow:
            assert sum(i.is_live for i in uow.invoices.for_order(order)) == 1
