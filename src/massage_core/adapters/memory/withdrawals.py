"""In-memory withdrawals with the contract of the SQL ones (the store's lock serialises units of work, so
``lock_therapist`` has nothing left to do)."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from massage_core.adapters.memory.store import Tables
from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.ids import AccountId
from massage_core.domain.withdrawals import Withdrawal, WithdrawalId, WithdrawalState
from massage_core.ports.withdrawals import PAGE, WithdrawalRepository


def _page(found: Sequence[Withdrawal], offset: int, limit: int) -> list[Withdrawal]:
    start = max(offset, 0)
    return list(found[start:start + max(limit, 0)])


class MemoryWithdrawalRepository(WithdrawalRepository):
    """Withdrawals in a dict keyed by id."""

    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def lock_therapist(self, therapist_id: AccountId) -> None:
        """Nothing to do: the unit of work holds the store's lock."""

    def add(self, withdrawal: Withdrawal) -> Withdrawal:
        if withdrawal.id in self._t.withdrawals:
            raise Conflict(f"withdrawal {withdrawal.id} already exists", code="withdrawal.duplicate")
        stored = attrs.evolve(withdrawal, version=1)
        self._t.withdrawals[withdrawal.id] = stored
        return stored

    def get(self, ident: WithdrawalId) -> Withdrawal:
        try:
            return self._t.withdrawals[ident]
        except KeyError:
            raise NotFound("withdrawal", ident) from None

    def save(self, withdrawal: Withdrawal) -> Withdrawal:
        current = self.get(withdrawal.id)
        if current.version != withdrawal.version:
            raise Conflict("the withdrawal was changed by somebody else; reload it", code="conflict.stale")
        stored = attrs.evolve(withdrawal, version=withdrawal.version + 1)
        self._t.withdrawals[withdrawal.id] = stored
        return stored

    def for_therapist(self, therapist_id: AccountId, *, offset: int = 0, limit: int = PAGE) -> Sequence[Withdrawal]:
        found = sorted((w for w in self._t.withdrawals.values() if w.therapist_id == therapist_id),
                       key=lambda w: (w.requested_at, w.id), reverse=True)
        return _page(found, offset, limit)

    def list(self, state: WithdrawalState | None = None, *, offset: int = 0,
             limit: int = PAGE) -> Sequence[Withdrawal]:
        found = sorted((w for w in self._t.withdrawals.values() if state is None or w.state is state),
                       key=lambda w: (w.requested_at, w.id))
        return _page(found, offset, limit)
