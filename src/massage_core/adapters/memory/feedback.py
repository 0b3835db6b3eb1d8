"""In-memory feedback with the contract of the SQL repository (decision 0038)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import attrs

from massage_core.adapters.memory.store import Tables
from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.feedback import Feedback, FeedbackId, FeedbackState
from massage_core.domain.ids import AccountId
from massage_core.ports.feedback import PAGE, FeedbackRepository


def _page(found: Iterable[Feedback], offset: int, limit: int, *, newest: bool) -> list[Feedback]:
    ordered = sorted(found, key=lambda f: (f.submitted_at, f.id), reverse=newest)
    start = max(offset, 0)
    return ordered[start:start + max(limit, 0)]


class MemoryFeedbackRepository(FeedbackRepository):
    """Feedback in a dict keyed by id."""

    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def add(self, item: Feedback) -> Feedback:
        if item.id in self._t.platform_feedback:
            raise Conflict(f"feedback {item.id} already exists", code="feedback.duplicate")
        stored = attrs.evolve(item, version=1)
        self._t.platform_feedback[item.id] = stored
        return stored

    def get(self, ident: FeedbackId) -> Feedback:
        try:
            return self._t.platform_feedback[ident]
        except KeyError:
            raise NotFound("feedback", ident) from None

    def save(self, item: Feedback) -> Feedback:
        current = self.get(item.id)
        if current.version != item.version:
            raise Conflict("the feedback was changed by somebody else; reload it", code="conflict.stale")
        stored = attrs.evolve(item, version=item.version + 1)
        self._t.platform_feedback[item.id] = stored
        return stored

    def for_author(self, author_id: AccountId, *, offset: int = 0, limit: int = PAGE) -> Sequence[Feedback]:
        return _page((f for f in self._t.platform_feedback.values() if f.author_id == author_id), offset, limit, newest=True)

    def list(self, state: FeedbackState | None = None, *, offset: int = 0, limit: int = PAGE) -> Sequence[Feedback]:
        return _page((f for f in self._t.platform_feedback.values() if state is None or f.state is state), offset, limit,
                     newest=False)
