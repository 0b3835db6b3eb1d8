"""Builders for the complaint and feedback cells of the access matrix (``test_access_matrix.MATRIX``; decision
0038).

A cell's complaint is about a completed order between the acting customer (or the cell's other customer) and
the acting therapist (or a fresh public therapist); a mediation step under test acts on a complaint the
superadmin took.  Set-up steps act as those people or the superadmin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from order_kit import advance, book, catalogue, make_public, pay

Call = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]
MEDIATORS = ("support", "superadmin")
"""Who holds ``complaints.mediate`` and ``feedback.manage`` by name (the system holds them too)."""


def _call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Call:
    return fn, args, kwargs


def _people(c: Any) -> tuple[Any, Any]:
    customer = c.me if c.kind == "customer" else c.other
    therapist = c.me if c.kind == "therapist" else c.kit.therapist()
    return customer, therapist


def _completed(c: Any) -> tuple[str, Any, Any]:
    customer, therapist = _people(c)
    shop = catalogue(c.p)
    make_public(c.p, therapist.account_id, shop)
    order = book(c.p, customer.actor, therapist.account_id, shop.tuina).id
    pay(c.p, order)
    advance(c.p, order, therapist.actor, customer.actor, "completed")
    return order, customer, therapist


def _filed(c: Any) -> str:
    order, customer, _therapist = _completed(c)
    made: str = c.p.complaints.file(customer.actor, order, "other", "matrix complaint").id
    return made


def _taken(c: Any) -> str:
    made = _filed(c)
    c.p.complaints.take(c.kit.superadmin().actor, made)
    return made


def file(c: Any) -> Call:
    order, _customer, _therapist = _completed(c)
    return _call(c.p.complaints.file, c.actor, order, "conduct", "matrix complaint")


def withdraw(c: Any) -> Call:
    return _call(c.p.complaints.withdraw, c.actor, _filed(c))


def respond(c: Any) -> Call:
    return _call(c.p.complaints.respond, c.actor, _filed(c), "my answer")


def take(c: Any) -> Call:
    return _call(c.p.complaints.take, c.actor, _filed(c))


def resolve(c: Any) -> Call:
    return _call(c.p.complaints.resolve, c.actor, _taken(c), "warning", "a first warning")


def escalate_overdue(c: Any) -> Call:
    _filed(c)
    return _call(c.p.complaints.escalate_overdue, c.actor)


def get(c: Any) -> Call:
    return _call(c.p.complaints.get, c.actor, _filed(c))


def mine(c: Any) -> Call:
    _filed(c)
    return _call(c.p.complaints.mine, c.actor)


def about_me(c: Any) -> Call:
    _filed(c)
    return _call(c.p.complaints.about_me, c.actor)


def list_queue(c: Any) -> Call:
    _filed(c)
    return _call(c.p.complaints.list, c.actor)


def _feedback(c: Any) -> str:
    author = c.me if c.me is not None else c.other
    made: str = c.p.feedback.submit(author.actor, "suggestion", "more evening slots").id
    return made


def feedback_submit(c: Any) -> Call:
    return _call(c.p.feedback.submit, c.actor, "bug", "the map does not load")


def feedback_mine(c: Any) -> Call:
    if c.me is not None:
        _feedback(c)
    return _call(c.p.feedback.mine, c.actor)


def feedback_get(c: Any) -> Call:
    return _call(c.p.feedback.get, c.actor, _feedback(c))


def feedback_list(c: Any) -> Call:
    _feedback(c)
    return _call(c.p.feedback.list, c.actor)


def feedback_reply(c: Any) -> Call:
    return _call(c.p.feedback.reply, c.actor, _feedback(c), "thank you")
