"""The SOS alert queue through ``platform.orders.sos_alerts`` on memory: most recent first, open while the
visit is under way, only for orders.read, bad input refused."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import Kit, Person
from massage_core.domain.errors import PermissionDenied, ValidationError
from massage_core.domain.order_states import OrderState
from order_kit import SYSTEM, advance, book, catalogue, make_public, pay


def test_alerts_are_listed_most_recent_first_and_close_with_the_visit(kit: Kit) -> None:
    shop = catalogue(kit.platform)
    therapist, customer = kit.therapist(), kit.customer_by_phone()
    make_public(kit.platform, therapist.account_id, shop)
    orders = kit.platform.orders
    order = book(kit.platform, customer.actor, therapist.account_id, shop.tuina).id
    pay(kit.platform, order)
    advance(kit.platform, order, therapist.actor, customer.actor, "arrived")
    assert orders.sos_alerts(SYSTEM) == ()
    orders.sos(therapist.actor, order, "the dog bit me")
    kit.clock.advance(dt.timedelta(minutes=5))
    orders.sos(therapist.actor, order, "bleeding has stopped")
    support = kit.support()
    alerts = orders.sos_alerts(support.actor)
    assert [a.note for a in alerts] == ["bleeding has stopped", "the dog bit me"]
    assert all(a.open and a.therapist_id == therapist.account_id and a.state is OrderState.ARRIVED for a in alerts)
    orders.start(therapist.actor, order)
    orders.finish(therapist.actor, order)
    assert orders.sos_alerts(support.actor, open_only=True) == ()
    assert [a.open for a in orders.sos_alerts(support.actor)] == [False, False]
    kit.clock.advance(dt.timedelta(hours=25))
    assert orders.sos_alerts(support.actor) == ()
    assert len(orders.sos_alerts(support.actor, hours=48)) == 2


@pytest.mark.parametrize("kwargs", [{"hours": 0}, {"hours": 721}, {"hours": True}, {"limit": 0}, {"limit": 201}])
def test_bad_input_is_refused(kit: Kit, kwargs: dict[str, int]) -> None:
    with pytest.raises(ValidationError):
        kit.platform.orders.sos_alerts(SYSTEM, **kwargs)


def test_therapists_and_customers_may_not_read_alerts(kit: Kit) -> None:
    person: Person
    for person in (kit.therapist(), kit.customer_by_phone()):
        with pytest.raises(PermissionDenied):
            kit.platform.orders.sos_alerts(person.actor)
