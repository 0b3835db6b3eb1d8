"""Builders for the invoice cells of the access matrix (``test_access_matrix.MATRIX``; decision 0030).

A cell's paid order belongs to the acting customer (kind ``customer``) or to the cell's other customer, as in
``matrix_orders``; the invoice of that order is requested by its own customer, so only the call under test
acts as the cell's actor.  Somebody else's order or invoice looking missing is checked in ``test_invoices.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import matrix_orders as mo

Call = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]
MANAGERS = ("finance", "superadmin", "system")
"""Who holds ``invoices.manage``."""
TITLE = {"title": "厦门某某科技有限公司", "email": "finance@example.com", "credit_code": "91350500676532779B"}


def _call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Call:
    return fn, args, kwargs


def _paid(c: Any) -> str:
    return mo.order_in(c, "awaiting_acceptance")


def _requested(c: Any) -> str:
    order = _paid(c)
    owner = mo._setup(c)[2]
    invoice: str = c.p.invoices.request(owner, order, **TITLE).id
    return invoice


def request(c: Any) -> Call:
    return _call(c.p.invoices.request, c.actor, _paid(c), **TITLE)


def list_mine(c: Any) -> Call:
    _requested(c)
    return _call(c.p.invoices.list_mine, c.actor)


def get(c: Any) -> Call:
    return _call(c.p.invoices.get, c.actor, _requested(c))


def list_queue(c: Any) -> Call:
    _requested(c)
    return _call(c.p.invoices.list, c.actor)


def issue(c: Any) -> Call:
    return _call(c.p.invoices.issue, c.actor, _requested(c))


def void(c: Any) -> Call:
    return _call(c.p.invoices.void, c.actor, _requested(c), "wrong title")
