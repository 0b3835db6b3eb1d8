"""Builders for the order cells of the access matrix (``test_access_matrix.MATRIX``).

A cell's order belongs to the acting customer (kind ``customer``) or to the cell's other customer, and is
assigned to the acting therapist (kind ``therapist``) or to a fresh public therapist.  Set-up runs through
the service as the order's own customer and therapist and the sandbox gateway, so only the call under test
acts as the cell's actor.  Somebody else's order looking like a missing one is checked in ``test_orders.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from massage_core.domain.access import Actor
from order_kit import LAT, LNG, START, advance, book, catalogue, gateway, make_public, pay

Call = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]

CANCELLERS = ("customer", "therapist", "support", "superadmin")
READERS = ("customer", "therapist", "support", "superadmin", "system")
MANAGERS = ("support", "superadmin", "system")


def _setup(c: Any) -> tuple[str, str, Actor, Actor]:
    """(service, therapist id, the order's customer actor, its therapist actor), made once per cell."""
    if not hasattr(c, "order_parts"):
        shop = catalogue(c.p)
        therapist = c.me if c.kind == "therapist" else c.kit.therapist()
        make_public(c.p, therapist.account_id, shop)
        customer = c.me if c.kind == "customer" else c.other
        c.order_parts = (shop.tuina, therapist.account_id, customer.actor, therapist.actor)
    return c.order_parts  # type: ignore[no-any-return]


def order_in(c: Any, state: str) -> str:
    """A fresh order of the cell in ``state`` (pending_payment, awaiting_acceptance, ..., or disputed)."""
    service, therapist, customer, serving = _setup(c)
    order = book(c.p, customer, therapist, service).id
    if state == "pending_payment":
        return order
    pay(c.p, order)
    advance(c.p, order, serving, customer, "finished" if state == "disputed" else state)
    if state == "disputed":
        c.p.orders.dispute(customer, order, "far too short")
    return order


def booking(method: str) -> Callable[[Any], Call]:
    """``orders.quote`` / ``orders.book`` by the cell's actor with the cell's therapist."""

    def build(c: Any) -> Call:
        service, therapist, _, _ = _setup(c)
        kwargs = {"therapist": therapist, "service": service, "start": START, "lat": LAT, "lng": LNG}
        return getattr(c.p.orders, method), (c.actor,), kwargs

    return build


def on_order(method: str, state: str, *args: Any) -> Callable[[Any], Call]:
    """``orders.<method>(actor, order, *args)`` on an order in ``state``."""

    def build(c: Any) -> Call:
        return getattr(c.p.orders, method), (c.actor, order_in(c, state), *args), {}

    return build


def callback(c: Any) -> Call:
    order = order_in(c, "pending_payment")
    headers, body = gateway(c.p).simulate_payment(order)
    return c.p.orders.payment_callback, (headers, body), {}


def mine(method: str) -> Callable[[Any], Call]:
    """``orders.<method>(actor)`` with one order of the cell stored."""

    def build(c: Any) -> Call:
        order_in(c, "pending_payment")
        return getattr(c.p.orders, method), (c.actor,), {}

    return build


def no_show(c: Any) -> Call:
    """``orders.mark_no_show`` just past the grace: the customer declares the therapist absent (accepted, 30 min
    after the start), everybody else the customer (arrived, 20 min after arrival)."""
    if c.kind == "customer":
        order = order_in(c, "accepted")
        c.kit.clock.advance(START + dt.timedelta(minutes=30) - c.kit.clock.now())
    else:
        order = order_in(c, "arrived")
        c.kit.clock.advance(dt.timedelta(minutes=20))
    return c.p.orders.mark_no_show, (c.actor, order), {}


def penalties(c: Any) -> Call:
    """``orders.penalties`` of the cell's therapist (the acting one for kind ``therapist``)."""
    _, therapist, _, _ = _setup(c)
    return c.p.orders.penalties, (c.actor, therapist), {}


def grab(c: Any) -> Call:
    """``orders.grab`` of a paid broadcast order the cell's therapist is eligible for."""
    service, _, customer, _ = _setup(c)
    order = c.p.orders.book(customer, service=service, start=START, lat=LAT, lng=LNG, dispatch="broadcast").id
    pay(c.p, order)
    return c.p.orders.grab, (c.actor, order), {}
