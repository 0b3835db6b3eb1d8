"""In-memory sanctions with the contract of the SQL ones (the store's lock serialises units of work; a sanction
is kept whole, its appeal inside it)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import attrs

from massage_core.adapters.memory.store import Tables
from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.ids import AccountId
from massage_core.domain.sanctions import AppealState, Sanction, SanctionId, SanctionState
from massage_core.domain.time import Instant
from massage_core.ports.sanctions import PAGE, SanctionRepository


def _page(found: Sequence[Sanction], offset: int, limit: int) -> list[Sanction]:
    start = max(offset, 0)
    return list(found[start:start + max(limit, 0)])


def _newest(found: list[Sanction]) -> list[Sanction]:
    return sorted(found, key=lambda s: (s.imposed_at, s.id), reverse=True)


class MemorySanctionRepository(SanctionRepository):
    """Sanctions in a dict keyed by id."""

    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def add(self, sanction: Sanction) -> Sanction:
        if sanction.id in self._t.sanctions:
            raise Conflict(f"sanction {sanction.id} already exists", code="sanction.duplicate")
        stored = attrs.evolve(sanction, appeal=None, version=1)
        self._t.sanctions[sanction.id] = stored
        return stored

    def get(self, ident: SanctionId) -> Sanction:
        try:
            return self._t.sanctions[ident]
        except KeyError:
            raise NotFound("sanction", ident) from None

    def save(self, sanction: Sanction) -> Sanction:
        current = self.get(sanction.id)
        if current.version != sanction.version:
            raise Conflict("the sanction was changed by somebody else; reload it", code="conflict.stale")
        if current.appeal is not None and sanction.appeal is not None and current.appeal.filed_at != \
                sanction.appeal.filed_at:
            raise Conflict(f"sanction {sanction.id} was appealed already", code="appeal.once")
        stored = attrs.evolve(sanction, version=sanction.version + 1)
        self._t.sanctions[sanction.id] = stored
        return stored

    def for_therapist(self, therapist_id: AccountId, *, offset: int = 0, limit: int = PAGE) -> Sequence[Sanction]:
        return _page(_newest([s for s in self._t.sanctions.values() if s.therapist_id == therapist_id]),
                     offset, limit)

    def list(self, *, appeal: AppealState | None = None, offset: int = 0, limit: int = PAGE) -> Sequence[Sanction]:
        if appeal is None:
            return _page(_newest(list(self._t.sanctions.values())), offset, limit)
        found = [s for s in self._t.sanctions.values() if s.appeal is not None and s.appeal.state is appeal]
        if appeal is AppealState.PENDING:
            return _page(sorted(found, key=lambda s: (s.appeal.filed_at if s.appeal else s.imposed_at, s.id)),
                         offset, limit)
        return _page(_newest(found), offset, limit)

    def due_to_end(self, now: Instant, *, limit: int = PAGE) -> Sequence[Sanction]:
        due = [s for s in self._t.sanctions.values() if s.is_due_to_end(now)]
        return sorted(due, key=lambda s: (s.ends_at, s.id))[: max(limit, 0)]

    def standing_counts(self, therapist_ids: Collection[AccountId], since: Instant) -> Mapping[AccountId, int]:
        counts = dict.fromkeys(set(therapist_ids), 0)
        for s in self._t.sanctions.values():
            if s.therapist_id in counts and s.imposed_at >= since and s.state is not SanctionState.REVERSED:
                counts[s.therapist_id] += 1
        return counts
