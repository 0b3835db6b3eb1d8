"""Builders for the chat cells of the access matrix (``test_access_matrix.MATRIX``; decision 0045).

A cell's order comes from the order kit (``matrix_orders.order_in``): its customer is the acting customer (kind
``customer``) or the cell's other customer, its therapist the acting therapist (kind ``therapist``) or a fresh
public one.  ``messages`` is played on a completed order with a live complaint, so mediators may read it (the
read-without-complaint case is in ``test_chat.py``).  Set-up steps act as the order's customer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import matrix_orders as mo

Call = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]
PARTIES = ("customer", "therapist")
MEDIATORS = ("support", "superadmin")


def _call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Call:
    return fn, args, kwargs


def _talking(c: Any, state: str = "accepted") -> str:
    """An order of the cell in ``state`` with one message from its customer."""
    order = mo.order_in(c, state)
    c.p.chat.send(c.order_parts[2], order, "I am at the gate, call 138 0013 8000")
    return order


def send(c: Any) -> Call:
    return _call(c.p.chat.send, c.actor, mo.order_in(c, "accepted"), "on my way")


def messages(c: Any) -> Call:
    order = _talking(c, "completed")
    c.p.complaints.file(c.order_parts[2], order, "conduct", "rude in the chat")
    return _call(c.p.chat.messages, c.actor, order)


def mark_read(c: Any) -> Call:
    return _call(c.p.chat.mark_read, c.actor, _talking(c))


def unread(c: Any) -> Call:
    return _call(c.p.chat.unread, c.actor, _talking(c))


def call_number(c: Any) -> Call:
    return _call(c.p.chat.call_number, c.actor, mo.order_in(c, "accepted"))


def release_ended(c: Any) -> Call:
    order = mo.order_in(c, "completed")
    c.p.chat.call_number(c.order_parts[2], order)
    c.kit.clock.advance(dt.timedelta(days=2))
    return _call(c.p.chat.release_ended, c.actor)
