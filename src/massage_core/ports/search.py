"""The TherapistLocator port: a spatial index of the therapists customers may see (``uow.locator``).

It is bound to the unit of work like a repository, so it answers from the
same transaction.  It never scans every therapist: the memory adapter keeps a
grid of ~1 km cells and reads only the cells under the query's bounding box;
the SQL adapter prefilters on the indexed micro-degree columns of
``therapist_profiles`` with the bounding box.  Both then compute the exact
great-circle distance (``domain.search.arc_m``).
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

from massage_core.domain.ids import AccountId
from massage_core.domain.search import Candidate, LocatorQuery, Rating


class TherapistLocator(abc.ABC):
    """Finds public therapists near a point; holds their rating read model.

    Public means what ``TherapistRepository.list_public`` means: approved,
    active, not suspended, and the account itself is active.
    """

    @abc.abstractmethod
    def search(self, query: LocatorQuery, *, limit: int | None = None) -> Sequence[Candidate]:
        """Public therapists within ``query.radius_m`` (exact great-circle distance, boundary included)
        that pass the query's filters, nearest first, equal distances by therapist id.

        With ``limit`` only the ``limit`` nearest (the adapters widen the search
        from a small radius, so a k-nearest query reads a few cells only).
        Raises nothing for an empty area: returns [].
        """

    @abc.abstractmethod
    def set_rating(self, therapist_id: AccountId, rating: Rating | None) -> None:
        """Record the therapist's current rating (None: no reviews); the reviews context feeds it.

        Raises ``NotFound`` when there is no such therapist profile.
        """

    @abc.abstractmethod
    def rating(self, therapist_id: AccountId) -> Rating | None:
        """The therapist's rating, or None when unrated or unknown."""

    @abc.abstractmethod
    def rebuild(self) -> int:
        """Rebuild the index from the repositories; return how many public therapists it holds.

        The adapters keep the index current on every change, so this is needed
        only after writing behind the repositories' back (bulk imports); on SQL
        the database indexes are always current and it only counts.
        """
