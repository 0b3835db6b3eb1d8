"""``platform.invoices`` on the memory platform: a customer's requests for paid orders, the finance queue,
issue through the sandbox issuer and void, with denials looking like missing objects (decision 0030)."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import pytest

from conftest import Kit, Person
from massage_core.adapters.memory.invoices import SandboxInvoiceIssuer
from massage_core.domain.audit import AuditOutcome
from massage_core.domain.errors import Conflict, InvalidTransition, MassageError, NotFound, PermissionDenied, \
    ValidationError
from massage_core.domain.invoices import InvoiceState, TitleKind
from massage_core.domain.money import Money
from order_kit import SENIOR_TUINA, START, advance, book, pay
from search_support import Shop

CODE = "91350500676532779B"


def refused(error: type[MassageError], code: str, call: Any, *args: Any, **kwargs: Any) -> MassageError:
    with pytest.raises(error) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, caught.value
    return caught.value


def issuer(kit: Kit) -> SandboxInvoiceIssuer:
    return cast(SandboxInvoiceIssuer, kit.platform.invoice_issuer)


@pytest.fixture
def paid_order(kit: Kit, shop: Shop, therapist: Person, customer: Person) -> str:
    order = book(kit.platform, customer.actor, therapist.account_id, shop.tuina).id
    pay(kit.platform, order)
    return order


def ask(kit: Kit, person: Person, order: str, **changes: Any) -> Any:
    args: dict[str, Any] = {"title": "张三", "email": "Zhang.San@Example.com"}
    args.update(changes)
    return kit.platform.invoices.request(person.actor, order, **args)


def test_request_issue_and_read_an_invoice(kit: Kit, customer: Person, paid_order: str) -> None:
    p = kit.platform
    asked = ask(kit, customer, paid_order, title="厦门某某科技有限公司", credit_code=CODE.lower())
    assert (asked.state, asked.title_kind, asked.credit_code) == (InvoiceState.REQUESTED, TitleKind.COMPANY, CODE)
    assert asked.email == "zhang.san@example.com" and asked.amount is None and asked.net_paid == Money(SENIOR_TUINA)
    finance = kit.finance()
    [queued] = p.invoices.list(finance.actor)
    assert queued.id == asked.id and queued.email == "z***@example.com"  # masked for the back office
    assert queued.title_name == "厦门某某科技有限公司" and queued.credit_code == CODE  # in full
    done = p.invoices.issue(finance.actor, asked.id)
    today = dt.date(2026, 1, 5)
    assert (done.state, done.amount, done.issued_on) == (InvoiceState.ISSUED, Money(SENIOR_TUINA), today)
    assert done.number == "2026010500000001" and not done.needs_reissue
    issued = [i.id for i in p.invoices.list(finance.actor, state="issued")]
    assert p.invoices.list(finance.actor) == [] and issued == [asked.id]
    mine = p.invoices.get(customer.actor, asked.id)
    assert mine.email == "zhang.san@example.com" and mine.number == done.number
    assert [i.id for i in p.invoices.list_mine(customer.actor)] == [asked.id]
    audit = [(e.action, e.target) for e in kit.audit_entries() if e.action.startswith("invoices.")]
    assert audit == [("invoices.issue", asked.id)]
    assert issuer(kit).issued[asked.id].number == done.number


def test_the_sandbox_numbers_per_day_and_is_idempotent(kit: Kit, shop: Shop, therapist: Person,
                                                       customer: Person) -> None:
    p, finance = kit.platform, kit.finance()
    numbers = []
    for day in range(3):
        order = book(p, customer.actor, therapist.account_id, shop.tuina,
                     start=START.add(hours=2 * day)).id
        pay(p, order)
        invoice = ask(kit, customer, order).id
        if day == 2:
            kit.clock.advance(dt.timedelta(days=1))
        numbers.append(p.invoices.issue(finance.actor, invoice).number)
    assert numbers == ["2026010500000001", "2026010500000002", "2026010600000001"]
    stored = kit.tables.invoices[invoice]
    assert issuer(kit).issue(stored).number == numbers[-1]  # idempotent by our invoice id


def test_one_live_invoice_per_order_and_a_voided_one_allows_a_new_request(kit: Kit, customer: Person,
                                                                           paid_order: str) -> None:
    p, finance = kit.platform, kit.finance()
    first = ask(kit, customer, paid_order)
    refused(Conflict, "invoice.exists", ask, kit, customer, paid_order, title="Another")
    p.invoices.issue(finance.actor, first.id)
    refused(Conflict, "invoice.exists", ask, kit, customer, paid_order)
    voided = p.invoices.void(finance.actor, first.id, "wrong title")
    assert (voided.state, voided.void_reason) == (InvoiceState.VOIDED, "wrong title")
    assert issuer(kit).voided == {first_number(voided): "wrong title"}
    second = ask(kit, customer, paid_order, title="李四")
    assert second.id != first.id and [i.id for i in p.invoices.list_mine(customer.actor)] == [second.id, first.id]
    refused(InvalidTransition, "invalid_transition", p.invoices.void, finance.actor, first.id, "again")
    refused(InvalidTransition, "invalid_transition", p.invoices.issue, finance.actor, first.id)
    audit = [e.action for e in kit.audit_entries() if e.action.startswith("invoices.") and
             e.outcome is AuditOutcome.OK]
    assert audit == ["invoices.issue", "invoices.void"]


def first_number(view: Any) -> str:
    assert view.number is not None
    return str(view.number)


def test_a_request_can_be_declined_without_the_issuer(kit: Kit, customer: Person, paid_order: str) -> None:
    asked = ask(kit, customer, paid_order)
    declined = kit.platform.invoices.void(kit.superadmin().actor, asked.id, "duplicate request")
    assert declined.state is InvoiceState.VOIDED and declined.number is None and issuer(kit).voided == {}


def test_unpaid_and_fully_refunded_orders_get_no_invoice(kit: Kit, shop: Shop, therapist: Person,
                                                          customer: Person) -> None:
    p = kit.platform
    unpaid = book(p, customer.actor, therapist.account_id, shop.tuina).id
    refused(ValidationError, "invoice.unpaid", ask, kit, customer, unpaid)
    pay(p, unpaid)
    cancelled = p.orders.cancel(customer.actor, unpaid)  # before acceptance: a full refund
    assert cancelled.refunded == cancelled.paid
    refused(ValidationError, "invoice.refunded", ask, kit, customer, unpaid)
    assert p.invoices.list_mine(customer.actor) == []


def test_the_amount_is_the_net_paid_and_a_later_refund_flags_a_reissue(kit: Kit, therapist: Person,
                                                                        customer: Person, paid_order: str) -> None:
    p, finance, support = kit.platform, kit.finance(), kit.support()
    advance(p, paid_order, therapist.actor, customer.actor, "finished")
    first = ask(kit, customer, paid_order)
    done = p.invoices.issue(finance.actor, first.id)
    assert done.amount == Money(SENIOR_TUINA) == done.net_paid and not done.needs_reissue
    p.orders.dispute(customer.actor, paid_order, "far too short")
    p.orders.refund(support.actor, paid_order, 5_000)
    stale = p.invoices.get(finance.actor, first.id)
    assert stale.needs_reissue and stale.net_paid == Money(SENIOR_TUINA - 5_000)
    assert p.invoices.get(customer.actor, first.id).needs_reissue
    p.invoices.void(finance.actor, first.id, "partial refund after issue")
    again = p.invoices.issue(finance.actor, ask(kit, customer, paid_order).id)
    assert again.amount == Money(SENIOR_TUINA - 5_000) and again.number != done.number and not again.needs_reissue


def test_an_order_refunded_in_full_after_the_request_cannot_be_issued(kit: Kit, customer: Person,
                                                                      paid_order: str) -> None:
    p, finance = kit.platform, kit.finance()
    asked = ask(kit, customer, paid_order)
    p.orders.cancel(customer.actor, paid_order)
    refused(ValidationError, "invoice.refunded", p.invoices.issue, finance.actor, asked.id)
    assert p.invoices.get(finance.actor, asked.id).state is InvoiceState.REQUESTED and issuer(kit).issued == {}


def test_other_peoples_orders_and_invoices_look_missing_and_are_audited(kit: Kit, customer: Person,
                                                                       paid_order: str) -> None:
    p = kit.platform
    stranger = kit.customer_by_phone()
    refused(NotFound, "not_found", ask, kit, stranger, paid_order)
    refused(NotFound, "not_found", ask, kit, stranger, kit.platform.deps.ids.new_id("order"))
    asked = ask(kit, customer, paid_order)
    refused(NotFound, "not_found", p.invoices.get, stranger.actor, asked.id)
    refused(NotFound, "not_found", p.invoices.get, kit.finance().actor, kit.platform.deps.ids.new_id("invoice"))
    assert p.invoices.list_mine(stranger.actor) == []
    denied = [(e.action, e.outcome) for e in kit.denied_entries()]
    assert denied == [("invoices.request", AuditOutcome.DENIED), ("invoices.get", AuditOutcome.DENIED)]


def test_roles_without_the_permission_are_refused(kit: Kit, customer: Person, paid_order: str) -> None:
    p = kit.platform
    asked = ask(kit, customer, paid_order)
    for person in (kit.support(), kit.auditor(), customer):
        refused(PermissionDenied, "permission_denied", p.invoices.list, person.actor)
        refused(PermissionDenied, "permission_denied", p.invoices.issue, person.actor, asked.id)
        refused(PermissionDenied, "permission_denied", p.invoices.void, person.actor, asked.id, "no")
    refused(PermissionDenied, "permission_denied", ask, kit, kit.finance(), paid_order)
    assert p.invoices.get(customer.actor, asked.id).state is InvoiceState.REQUESTED


@pytest.mark.parametrize(("changes", "error"), [
    ({"title": ""}, "invoice.title"),
    ({"email": "nobody"}, "email.invalid"),
    ({"credit_code": "91350500676532779C"}, "invoice.credit_code_check"),
    ({"credit_code": "91350500676532778B"}, "invoice.credit_code_org"),
    ({"credit_code": "123"}, "invoice.credit_code"),
])
def test_bad_requests_are_refused_and_change_nothing(kit: Kit, customer: Person, paid_order: str,
                                                     changes: dict[str, Any], error: str) -> None:
    refused(ValidationError, error, ask, kit, customer, paid_order, **changes)
    assert kit.tables.invoices == {}


def test_bad_arguments_have_stable_codes(kit: Kit, customer: Person) -> None:
    p, finance = kit.platform, kit.finance()
    refused(ValidationError, "invalid_id", ask, kit, customer, "ord_nope")
    refused(ValidationError, "invalid_id", p.invoices.issue, finance.actor, "inv_nope")
    refused(ValidationError, "invoice.state", p.invoices.list, finance.actor, state="paid")
    refused(ValidationError, "page.limit", p.invoices.list, finance.actor, limit=0)
    refused(ValidationError, "page.offset", p.invoices.list_mine, customer.actor, offset=-1)
    refused(NotFound, "not_found", p.invoices.issue, finance.actor, p.deps.ids.new_id("invoice"))


def test_the_sandbox_issuer_refuses_what_the_tax_system_would(kit: Kit, customer: Person, paid_order: str) -> None:
    sandbox = issuer(kit)
    asked = kit.tables.invoices[ask(kit, customer, paid_order).id]
    refused(ValidationError, "invoice.amount", sandbox.issue, asked)  # not yet given an amount
    refused(ValidationError, "invoice.number", sandbox.void, "12-34", "typo")
    sandbox.void("2026010500000099", "issued by another process's sandbox")
    sandbox.void("2026010500000099", "again")  # idempotent: the first reason stays
    assert sandbox.voided == {"2026010500000099": "issued by another process's sandbox"}
    assert sandbox.issued == {}
