"""One person's order history (``platform.orders.list_all(customer=..., therapist=...)``) on the memory platform:
filters alone and combined with a state, paging, bad ids refused with nothing audited, the denied audited, and
every staff read written to the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from conftest import Kit, Person
from massage_core.domain.audit import AuditOutcome
from massage_core.domain.errors import PermissionDenied, ValidationError
from massage_core.domain.order_states import OrderState
from massage_core.services.order_views import OrderView
from order_kit import START, book, make_public, pay
from search_support import Shop


def ids(page: Any) -> list[str]:
    return [o.id for o in page.orders]


@pytest.fixture
def history(kit: Kit, shop: Shop, therapist: Person, customer: Person) -> dict[str, Any]:
    """``customer`` books ``therapist`` three times (the second one paid) and a second therapist once; another
    customer books ``therapist`` once.  Placed one after the other, so the newest is the last booked."""
    other_therapist = kit.therapist()
    make_public(kit.platform, other_therapist.account_id, shop)
    other_customer = kit.customer_by_phone()
    p = kit.platform

    def booked(who: Person, whom: Person, hours: int) -> OrderView:
        kit.clock.advance(dt.timedelta(minutes=1))
        return book(p, who.actor, whom.account_id, shop.tuina, start=START.add(hours=hours))

    a = booked(customer, therapist, 0)
    b = booked(customer, therapist, 2)
    pay(p, b.id)
    c = booked(customer, other_therapist, 4)
    d = booked(other_customer, therapist, 6)
    e = booked(customer, therapist, 8)
    return {"a": a.id, "b": b.id, "c": c.id, "d": d.id, "e": e.id, "other_customer": other_customer,
            "other_therapist": other_therapist}


def test_by_customer_by_therapist_and_both(kit: Kit, therapist: Person, customer: Person,
                                          history: dict[str, Any]) -> None:
    orders, h = kit.platform.orders, history
    support = kit.support().actor
    assert ids(orders.list_all(support, customer=customer.account_id)) == [h["e"], h["c"], h["b"], h["a"]]
    assert ids(orders.list_all(support, therapist=therapist.account_id)) == [h["e"], h["d"], h["b"], h["a"]]
    both = orders.list_all(support, customer=customer.account_id, therapist=therapist.account_id)
    assert ids(both) == [h["e"], h["b"], h["a"]]
    assert ids(orders.list_all(support, customer=h["other_customer"].account_id)) == [h["d"]]
    assert ids(orders.list_all(support, therapist=h["other_therapist"].account_id)) == [h["c"]]
    assert len(ids(orders.list_all(support))) == 5


def test_combined_with_a_state(kit: Kit, therapist: Person, customer: Person, history: dict[str, Any]) -> None:
    orders, h = kit.platform.orders, history
    root = kit.superadmin().actor
    paid = OrderState.AWAITING_ACCEPTANCE.value
    assert ids(orders.list_all(root, paid, customer=customer.account_id)) == [h["b"]]
    assert ids(orders.list_all(root, paid, therapist=therapist.account_id)) == [h["b"]]
    assert ids(orders.list_all(root, "pending_payment", customer=customer.account_id,
                               therapist=therapist.account_id)) == [h["e"], h["a"]]
    assert ids(orders.list_all(root, "completed", customer=customer.account_id)) == []


def test_paged_newest_first(kit: Kit, customer: Person, history: dict[str, Any]) -> None:
    orders, h = kit.platform.orders, history
    support = kit.support().actor
    first = orders.list_all(support, customer=customer.account_id, limit=3)
    second = orders.list_all(support, customer=customer.account_id, offset=3, limit=3)
    assert (ids(first), (first.offset, first.limit)) == ([h["e"], h["c"], h["b"]], (0, 3))
    assert ids(second) == [h["a"]]
    assert orders.list_all(support, customer=customer.account_id, offset=4).orders == ()


@pytest.mark.parametrize("field", ["customer", "therapist"])
@pytest.mark.parametrize("bad", ["", "acc_short", "ord_01HZY8Q3V7W8X9Y0Z1A2B3C4D5", "ACC_01HZY8Q3V7W8X9Y0Z1A2B3C4D5"])
def test_bad_ids_refused_and_nothing_audited(kit: Kit, history: dict[str, Any], field: str, bad: str) -> None:
    support = kit.support().actor
    before = len(kit.audit_entries())
    with pytest.raises(ValidationError) as caught:
        kit.platform.orders.list_all(support, **dict[str, Any]({field: bad}))
    assert (caught.value.code, caught.value.field) == ("invalid_id", "account_id")
    assert len(kit.audit_entries()) == before


def test_customers_therapists_and_other_admins_denied_and_audited(kit: Kit, therapist: Person, customer: Person,
                                                                  history: dict[str, Any]) -> None:
    for person in (customer, therapist, kit.finance(), kit.auditor()):
        before = len(kit.denied_entries())
        with pytest.raises(PermissionDenied):
            kit.platform.orders.list_all(person.actor, customer=customer.account_id)
        [entry] = kit.denied_entries()[before:]
        assert (entry.actor, entry.action, entry.target) == (person.actor.label, "orders.history",
                                                             customer.account_id)
    assert not [e for e in kit.audit_entries() if e.action == "orders.history" and e.outcome is AuditOutcome.OK]


def test_each_person_named_is_audited(kit: Kit, therapist: Person, customer: Person, history: dict[str, Any]) -> None:
    support = kit.support()
    before = len(kit.audit_entries())
    kit.platform.orders.list_all(support.actor, "pending_payment", customer=customer.account_id,
                                 therapist=therapist.account_id)
    written = kit.audit_entries()[before:]
    assert [(e.actor, e.action, e.target, e.outcome, e.details) for e in written] == [
        (support.actor.label, "orders.history", customer.account_id, AuditOutcome.OK,
         (("role", "customer"), ("state", "pending_payment"))),
        (support.actor.label, "orders.history", therapist.account_id, AuditOutcome.OK,
         (("role", "therapist"), ("state", "pending_payment"))),
    ]
    kit.platform.orders.list_all(support.actor, "completed")  # every order: no one's history, nothing written
    assert len(kit.audit_entries()) == before + 2
