"""Builders for the payout-batch cells of the access matrix (``test_access_matrix.MATRIX``; decision 0033).

Each cell's batch is one approved withdrawal of ¥200 (below the default two-admin threshold), made by a fresh
therapist funded by a bonus and approved by the superadmin; its id is read as the system.
"""

from __future__ import annotations

from typing import Any

from massage_core.domain.access import Actor

from matrix_withdrawals import Call, _call, _requested


def _batch(c: Any) -> str:
    c.p.withdrawals.approve(c.kit.superadmin().actor, _requested(c))
    found: str = c.p.withdrawals.batch(Actor.system()).id
    return found


def batch(c: Any) -> Call:
    _batch(c)
    return _call(c.p.withdrawals.batch, c.actor)


def approve_batch(c: Any) -> Call:
    return _call(c.p.withdrawals.approve_batch, c.actor, _batch(c))


def run_batch(c: Any) -> Call:
    return _call(c.p.withdrawals.run_batch, c.actor, _batch(c))
