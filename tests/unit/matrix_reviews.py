"""Builders for the review cells of the access matrix (``test_access_matrix.MATRIX``; decision 0037).

A cell's order is completed through the order kit (``matrix_orders.order_in``): its customer is the acting
customer (kind ``customer``) or the cell's other customer, its therapist the acting therapist (kind
``therapist``) or a fresh public one.  Set-up steps act as that customer or therapist; only the call under
test acts as the cell's actor.  ``get`` is played on a review still blind, so only its author and moderators
see it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import matrix_orders as mo

Call = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]
MODERATORS = ("support", "superadmin", "system")
"""Who holds ``reviews.moderate``."""
SCORES = {"attitude": 5, "skill": 4, "pressure": 4}
PHONE_TEXT = "great, call me on 138 0013 8000"


def _call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Call:
    return fn, args, kwargs


def _completed(c: Any) -> str:
    return mo.order_in(c, "completed")


def _reviewed(c: Any, text: str = "very good", *, rated: bool = False) -> str:
    """A review of a fresh completed order of the cell; ``rated``: the therapist rated back (public)."""
    order = _completed(c)
    _, _, customer, therapist = c.order_parts
    made: str = c.p.reviews.submit(customer, order, text=text, **SCORES).id
    if rated:
        c.p.reviews.rate_customer(therapist, order, 4)
    return made


def submit(c: Any) -> Call:
    return _call(c.p.reviews.submit, c.actor, _completed(c), text="lovely", tags=["punctual"], **SCORES)


def mine(c: Any) -> Call:
    return _call(c.p.reviews.mine, c.actor)


def rate_customer(c: Any) -> Call:
    return _call(c.p.reviews.rate_customer, c.actor, _completed(c), 5, "polite")


def flag_customer(c: Any) -> Call:
    return _call(c.p.reviews.flag_customer, c.actor, _completed(c), "rude and threatening")


def reply(c: Any) -> Call:
    return _call(c.p.reviews.reply, c.actor, _reviewed(c, rated=True), "thank you")


def about_me(c: Any) -> Call:
    return _call(c.p.reviews.about_me, c.actor)


def for_therapist(c: Any) -> Call:
    _reviewed(c, rated=True)
    return _call(c.p.reviews.for_therapist, c.actor, c.order_parts[1])


def get_blind(c: Any) -> Call:
    return _call(c.p.reviews.get, c.actor, _reviewed(c))


def rating(c: Any) -> Call:
    _reviewed(c, rated=True)
    return _call(c.p.reviews.rating, c.actor, c.order_parts[1])


def queue(c: Any) -> Call:
    _reviewed(c, PHONE_TEXT)
    return _call(c.p.reviews.queue, c.actor)


def flags(c: Any) -> Call:
    order = _completed(c)
    c.p.reviews.flag_customer(c.order_parts[3], order, "rude")
    return _call(c.p.reviews.flags, c.actor)


def approve(c: Any) -> Call:
    return _call(c.p.reviews.approve, c.actor, _reviewed(c, PHONE_TEXT))


def reject(c: Any) -> Call:
    return _call(c.p.reviews.reject, c.actor, _reviewed(c, PHONE_TEXT), "contact details")


def mask(c: Any) -> Call:
    return _call(c.p.reviews.mask, c.actor, _reviewed(c, PHONE_TEXT))


def release_due(c: Any) -> Call:
    _reviewed(c)
    c.kit.clock.advance(dt.timedelta(days=8))
    return _call(c.p.reviews.release_due, c.actor)
