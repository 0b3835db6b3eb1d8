"""Builders for the customer-profile cells of the access matrix (``test_access_matrix.MATRIX``; decision 0022).

Set-up steps act as the other customer, so only the call under test acts as the cell's actor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Call = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]
READERS = ("support", "superadmin", "system")
"""Who sees any customer's masked profile (``customer_profiles.read``)."""


def _call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Call:
    return fn, args, kwargs


def set_profile(c: Any) -> Call:
    return _call(c.p.customers.set_profile, c.actor, gender="female", birth_year=1990, conditions=["fever"],
                 health_note="mild asthma")


def profile(c: Any) -> Call:
    return _call(c.p.customers.profile, c.actor)


def profile_of(c: Any) -> Call:
    c.p.customers.set_profile(c.other.actor, birth_year=1985, conditions=["hypertension"])
    return _call(c.p.customers.profile_of, c.actor, c.other.account_id)
