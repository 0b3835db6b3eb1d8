"""In-memory complaints with the contract of the SQL ones (decision 0038)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import attrs

from massage_core.adapters.memory.store import Tables
from massage_core.domain.complaints import Complaint, ComplaintId, ComplaintState
from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.ids import AccountId
from massage_core.domain.order_states import OrderId
from massage_core.domain.time import Instant
from massage_core.ports.complaints import LIVE_EXISTS, PAGE, ComplaintsRepository


def _page(found: Iterable[Complaint], offset: int, limit: int, *, newest: bool) -> list[Complaint]:
    ordered = sorted(found, key=lambda c: (c.filed_at, c.id), reverse=newest)
    start = max(offset, 0)
    return ordered[start:start + max(limit, 0)]


class MemoryComplaintsRepository(ComplaintsRepository):
    """Complaints in a dict keyed by id."""

    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def add(self, complaint: Complaint) -> Complaint:
        if complaint.id in self._t.complaints:
            raise Conflict(f"complaint {complaint.id} already exists", code="complaint.duplicate")
        if complaint.is_live and any(c.is_live for c in self.for_order(complaint.order_id)):
            raise Conflict("this order already has an open complaint", code=LIVE_EXISTS)
        stored = attrs.evolve(complaint, version=1)
        self._t.complaints[complaint.id] = stored
        return stored

    def get(self, ident: ComplaintId) -> Complaint:
        try:
            return self._t.complaints[ident]
        except KeyError:
            raise NotFound("complaint", ident) from None

    def get_for_update(self, ident: ComplaintId) -> Complaint:
        return self.get(ident)  # the unit of work holds the store's lock

    def save(self, complaint: Complaint) -> Complaint:
        current = self.get(complaint.id)
        if current.version != complaint.version:
            raise Conflict("the complaint was changed by somebody else; reload it", code="conflict.stale")
        stored = attrs.evolve(complaint, version=complaint.version + 1)
        self._t.complaints[complaint.id] = stored
        return stored

    def for_order(self, order_id: OrderId) -> Sequence[Complaint]:
        return sorted((c for c in self._t.complaints.values() if c.order_id == order_id),
                      key=lambda c: (c.filed_at, c.id))

    def for_customer(self, customer_id: AccountId, *, offset: int = 0, limit: int = PAGE) -> Sequence[Complaint]:
        return _page((c for c in self._t.complaints.values() if c.customer_id == customer_id), offset, limit,
                     newest=True)

    def for_therapist(self, therapist_id: AccountId, *, offset: int = 0, limit: int = PAGE) -> Sequence[Complaint]:
        return _page((c for c in self._t.complaints.values() if c.therapist_id == therapist_id), offset, limit,
                     newest=True)

    def list(self, state: ComplaintState | None = None, *, offset: int = 0, limit: int = PAGE) -> Sequence[Complaint]:
        return _page((c for c in self._t.complaints.values() if state is None or c.state is state), offset, limit,
                     newest=False)

    def overdue(self, now: Instant, *, limit: int = PAGE) -> Sequence[ComplaintId]:
        due = sorted((c for c in self._t.complaints.values()
                      if c.state is ComplaintState.OPEN and c.answer_due <= now), key=lambda c: (c.answer_due, c.id))
        return [c.id for c in due[:max(limit, 0)]]

    def upheld_counts(self, therapist_ids: Sequence[AccountId]) -> dict[AccountId, int]:
        counts = {AccountId(t): 0 for t in therapist_ids}
        for c in self._t.complaints.values():
            if (c.therapist_id in counts and c.state is ComplaintState.RESOLVED and c.resolution is not None
                    and c.resolution.outcome.upheld):
                counts[c.therapist_id] += 1
        return counts
