"""Builders for the earnings cells of the access matrix (``test_access_matrix.MATRIX``; decision 0032).

Reads are of another person's earnings (the parameter is ``therapist``, not ``account``, so the cells are not
split own/other; a therapist reading their own is in ``test_earnings``).  A bonus or penalty goes to a fresh
therapist (a penalty's therapist is funded first by the system).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from massage_core.domain.access import Actor
from massage_core.domain.money import Money

Call = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]
READERS = ("finance", "auditor", "superadmin", "system")
"""Who reads anybody's earnings (``ledger.read``)."""
MANAGERS = ("finance", "superadmin", "system")
"""Who grants bonuses and deducts penalties (``money.manage``)."""


def _call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Call:
    return fn, args, kwargs


def summary(c: Any) -> Call:
    return _call(c.p.earnings.summary, c.actor, c.other.account_id)


def orders(c: Any) -> Call:
    return _call(c.p.earnings.orders, c.actor, c.other.account_id)


def totals(c: Any) -> Call:
    return _call(c.p.earnings.totals, c.actor, c.other.account_id, period="week")


def grant_bonus(c: Any) -> Call:
    return _call(c.p.earnings.grant_bonus, c.actor, c.kit.therapist().account_id, Money(1_000), "matrix bonus")


def deduct_penalty(c: Any) -> Call:
    therapist = c.kit.therapist().account_id
    c.p.earnings.grant_bonus(Actor.system(), therapist, Money(1_000), "matrix funding")
    return _call(c.p.earnings.deduct_penalty, c.actor, therapist, Money(500), "matrix penalty")
