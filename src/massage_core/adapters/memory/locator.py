"""The memory TherapistLocator: a grid index (``grid.GridIndex``) kept current by the repositories.

How it stays current (decision 0014): the memory therapist repository calls
``reindex`` on every ``add`` and ``save``, and ``set_rating`` does the same,
so the grid always reflects the tables the unit of work sees; the ids are
remembered in ``Tables.located`` and, when the unit of work rolls back,
re-indexed from the restored snapshot.  The grid holds approved, active,
unsuspended profiles; whether the account is active is asked at query time
(an account suspension does not go through the therapist repository).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from massage_core.adapters.memory.grid import Entry
from massage_core.adapters.memory.store import Tables
from massage_core.domain.errors import NotFound
from massage_core.domain.ids import AccountId
from massage_core.domain.search import Candidate, LocatorQuery, Rating
from massage_core.domain.therapists import TherapistProfile
from massage_core.ports.search import TherapistLocator


def entry_of(profile: TherapistProfile, rating: Rating | None) -> Entry:
    """The grid entry of a profile."""
    return Entry(profile.id, profile.area.lat, profile.area.lng, profile.gender, profile.level, rating,
                 profile.services)


def reindex(tables: Tables, therapist_ids: Iterable[str]) -> None:
    """Bring the grid entries of ``therapist_ids`` in line with ``tables``."""
    index = tables.search_index
    for therapist_id in list(therapist_ids):
        profile = tables.therapists.get(therapist_id)
        if profile is not None and profile.is_public:
            index.put(entry_of(profile, tables.ratings.get(therapist_id)))
        else:
            index.remove(therapist_id)


def touched(tables: Tables, therapist_id: str) -> None:
    """Re-index one therapist now and remember it for a rollback (called by the repositories)."""
    tables.located.add(therapist_id)
    reindex(tables, (therapist_id,))


class MemoryTherapistLocator(TherapistLocator):
    """Grid search over ``tables.search_index``; ratings in ``tables.ratings``."""

    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def _active(self, therapist_id: str) -> bool:
        account = self._t.accounts.get(therapist_id)
        return account is not None and account.is_active

    def search(self, query: LocatorQuery, *, limit: int | None = None) -> Sequence[Candidate]:
        """Grid cells under the bounding box, exact distance, nearest first then by id."""
        hits = self._t.search_index.search(query, limit=limit, accept=self._active)
        return [Candidate(e.id, distance, e.gender, e.level, e.rating) for distance, _, e in hits]

    def set_rating(self, therapist_id: AccountId, rating: Rating | None) -> None:
        """Store (or clear) the rating and re-index the therapist."""
        if therapist_id not in self._t.therapists:
            raise NotFound("therapist", therapist_id)
        if rating is None:
            self._t.ratings.pop(therapist_id, None)
        else:
            self._t.ratings[therapist_id] = rating
        touched(self._t, therapist_id)

    def rating(self, therapist_id: AccountId) -> Rating | None:
        """The stored rating or None."""
        return self._t.ratings.get(therapist_id)

    def rebuild(self) -> int:
        """Rebuild the grid from every public profile; count those whose account is active."""
        ratings, accounts = self._t.ratings, self._t.accounts
        public = [p for p in self._t.therapists.values() if p.is_public]
        self._t.search_index.load([entry_of(p, ratings.get(p.id)) for p in public])
        return sum(1 for p in public if p.id in accounts and accounts[p.id].is_active)
