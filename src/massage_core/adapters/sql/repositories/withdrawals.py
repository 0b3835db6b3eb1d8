"""Withdrawals: the ``withdrawals`` row (optimistic ``version``), and the per-therapist lock of decision 0033.

``lock_therapist`` on PostgreSQL takes ``pg_advisory_xact_lock`` on a 64-bit hash of ``withdrawal:<therapist>``:
concurrent requests of one therapist queue there, and each reads the balance (READ COMMITTED: a fresh snapshot
per statement) only once the previous one committed its hold.  On SQLite the ``BEGIN IMMEDIATE`` writer lock
already serialises every unit of work, so there is nothing to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
from sqlalchemy import Row, bindparam, insert, select, text, update
from sqlalchemy.engine import Connection

from massage_core.adapters.sql.repositories._guard import guarded
from massage_core.adapters.sql.tables_withdrawals import withdrawals
from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.ids import AccountId
from massage_core.domain.money import Money
from massage_core.domain.withdrawals import Withdrawal, WithdrawalId, WithdrawalState
from massage_core.ports.withdrawals import PAGE, WithdrawalRepository

DUPLICATE = "withdrawal.duplicate"

_w = withdrawals
_BY_ID = select(_w).where(_w.c.id == bindparam("p_id"))
_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")


def _values(withdrawal: Withdrawal, version: int) -> dict[str, Any]:
    return {
        "therapist_id": withdrawal.therapist_id, "currency": withdrawal.amount.currency,
        "amount_fen": withdrawal.amount.fen, "fee_fen": withdrawal.fee.fen, "state": withdrawal.state.value,
        "requested_at": withdrawal.requested_at, "decided_by": withdrawal.decided_by,
        "decided_at": withdrawal.decided_at, "reason": withdrawal.reason, "settled_at": withdrawal.settled_at,
        "payout_reference": withdrawal.payout_reference, "version": version,
    }


def _to_withdrawal(row: Row[Any]) -> Withdrawal:
    return Withdrawal(
        id=WithdrawalId(row.id), therapist_id=AccountId(row.therapist_id),
        amount=Money(row.amount_fen, row.currency), fee=Money(row.fee_fen, row.currency),
        requested_at=row.requested_at, state=WithdrawalState(row.state),
        decided_by=AccountId(row.decided_by) if row.decided_by is not None else None,
        decided_at=row.decided_at, reason=row.reason, settled_at=row.settled_at,
        payout_reference=row.payout_reference, version=row.version,
    )


class SqlWithdrawalRepository(WithdrawalRepository):
    """The ``withdrawals`` table; see the module docstring."""

    def __init__(self, connection: Connection) -> None:
        self._conn = connection

    def lock_therapist(self, therapist_id: AccountId) -> None:
        if self._conn.dialect.name == "postgresql":
            self._conn.execute(_LOCK, {"key": f"withdrawal:{therapist_id}"})

    def add(self, withdrawal: Withdrawal) -> Withdrawal:
        with guarded(self._conn, duplicate=DUPLICATE):
            if self._conn.execute(_BY_ID, {"p_id": withdrawal.id}).first() is not None:
                raise Conflict(f"withdrawal {withdrawal.id} already exists", code=DUPLICATE)
            self._conn.execute(insert(_w).values(id=withdrawal.id, **_values(withdrawal, 1)))
        return attrs.evolve(withdrawal, version=1)

    def get(self, ident: WithdrawalId) -> Withdrawal:
        row = self._conn.execute(_BY_ID, {"p_id": ident}).first()
        if row is None:
            raise NotFound("withdrawal", ident)
        return _to_withdrawal(row)

    def save(self, withdrawal: Withdrawal) -> Withdrawal:
        new_version = withdrawal.version + 1
        with guarded(self._conn, duplicate=DUPLICATE):
            result = self._conn.execute(
                update(_w).where(_w.c.id == withdrawal.id, _w.c.version == withdrawal.version)
                .values(_values(withdrawal, new_version)))
            if result.rowcount == 0:
                if self._conn.execute(_BY_ID, {"p_id": withdrawal.id}).first() is None:
                    raise NotFound("withdrawal", withdrawal.id)
                raise Conflict("the withdrawal was changed by somebody else; reload it", code="conflict.stale")
        return attrs.evolve(withdrawal, version=new_version)

    def for_therapist(self, therapist_id: AccountId, *, offset: int = 0, limit: int = PAGE) -> Sequence[Withdrawal]:
        query = (select(_w).where(_w.c.therapist_id == therapist_id)
                 .order_by(_w.c.requested_at.desc(), _w.c.id.desc()).offset(max(offset, 0)).limit(max(limit, 0)))
        return [_to_withdrawal(row) for row in self._conn.execute(query)]

    def list(self, state: WithdrawalState | None = None, *, offset: int = 0,
             limit: int = PAGE) -> Sequence[Withdrawal]:
        query = select(_w)
        if state is not None:
            query = query.where(_w.c.state == state.value)
        query = query.order_by(_w.c.requested_at, _w.c.id).offset(max(offset, 0)).limit(max(limit, 0))
        return [_to_withdrawal(row) for row in self._conn.execute(query)]
