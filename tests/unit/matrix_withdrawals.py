"""Builders for the withdrawal cells of the access matrix (``test_access_matrix.MATRIX``; decision 0033).

A cell's withdrawal to decide is requested by a fresh therapist funded by a bonus; a request under test is
funded on the acting person's own payable account.  Set-up steps act as the system or that therapist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pendulum

from massage_core.domain import postings
from massage_core.domain.money import Money

Call = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]
MANAGERS = ("finance", "superadmin", "system")
"""Who holds ``money.manage``."""
AT = pendulum.datetime(2026, 1, 5, 2, tz="UTC")


def _call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Call:
    return fn, args, kwargs


def _fund(c: Any, account: str) -> None:
    with c.p.deps.uow() as uow:
        uow.ledger.post(postings.bonus(f"matrix-{account}", account, Money(50_000), AT, "matrix"))
        uow.commit()


def _requested(c: Any) -> str:
    therapist = c.kit.therapist()
    _fund(c, therapist.account_id)
    made: str = c.p.withdrawals.request(therapist.actor, 20_000).id
    return made


def request(c: Any) -> Call:
    if c.me is not None:
        _fund(c, c.me.account_id)
    return _call(c.p.withdrawals.request, c.actor, 20_000)


def mine(c: Any) -> Call:
    return _call(c.p.withdrawals.mine, c.actor)


def list_queue(c: Any) -> Call:
    _requested(c)
    return _call(c.p.withdrawals.list, c.actor)


def approve(c: Any) -> Call:
    return _call(c.p.withdrawals.approve, c.actor, _requested(c))


def reject(c: Any) -> Call:
    return _call(c.p.withdrawals.reject, c.actor, _requested(c), "wrong bank account")


def pay(c: Any) -> Call:
    made = _requested(c)
    c.p.withdrawals.approve(c.kit.superadmin().actor, made)
    return _call(c.p.withdrawals.pay, c.actor, made)
