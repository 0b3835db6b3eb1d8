"""Builders for the ledger cells of the access matrix (``test_access_matrix.MATRIX``; decision 0029).

The account under test is the cell's target's therapist payable account (``therapist_payable:<id>``): the
actor's own for ``/own`` cells, the other person's for ``/other``.  Set-up steps act as the system.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Call = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]
READERS = ("finance", "auditor", "superadmin", "system")
"""Who reads every ledger account and runs ``verify`` (``ledger.read``)."""


def _call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Call:
    return fn, args, kwargs


def balance(c: Any) -> Call:
    return _call(c.p.ledger.balance, c.actor, f"therapist_payable:{c.target}")


def entries(c: Any) -> Call:
    return _call(c.p.ledger.entries, c.actor, f"therapist_payable:{c.target}")


def verify(c: Any) -> Call:
    return _call(c.p.ledger.verify, c.actor)
