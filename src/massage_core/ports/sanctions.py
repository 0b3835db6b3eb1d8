"""The sanction repository (``uow.sanctions``): sanctions against therapists with their one appeal.

A sanction is stored whole with an optimistic ``version``; its appeal lives beside it, at most one per sanction
-- the storage itself refuses a second (on SQL the appeal row's primary key is the sanction id), so two
concurrent appeals or decisions of one sanction end with exactly one winner (the other: Conflict).  The
reason, the appeal's text and the decision's reason are encrypted at rest on SQL (bound to the sanction).
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Mapping, Sequence

from massage_core.domain.ids import AccountId
from massage_core.domain.sanctions import AppealState, Sanction, SanctionId
from massage_core.domain.time import Instant

PAGE = 50
"""The default page size of the lists."""


class SanctionRepository(abc.ABC):
    """Sanctions by id, by therapist, by appeal state; the counts the quality score needs."""

    @abc.abstractmethod
    def add(self, sanction: Sanction) -> Sanction:
        """Store a new sanction (without an appeal); return it with version 1.  Conflict ``sanction.duplicate``
        for a taken id; on SQL ``conflict.reference`` for an unknown therapist account."""

    @abc.abstractmethod
    def get(self, ident: SanctionId) -> Sanction:
        """The sanction with its appeal, or NotFound."""

    @abc.abstractmethod
    def save(self, sanction: Sanction) -> Sanction:
        """Store the changes of a loaded sanction and of its appeal (a new appeal is added, a decided one
        updated); return it with version + 1.  Conflict ``conflict.stale`` when the stored version differs,
        ``appeal.once`` when an appeal is stored already and this one would be another, NotFound when there
        is no such sanction."""

    @abc.abstractmethod
    def for_therapist(self, therapist_id: AccountId, *, offset: int = 0, limit: int = PAGE) -> Sequence[Sanction]:
        """The therapist's sanctions, newest first (imposed at, then id, descending)."""

    @abc.abstractmethod
    def list(self, *, appeal: AppealState | None = None, offset: int = 0, limit: int = PAGE) -> Sequence[Sanction]:
        """Every sanction, newest first; with ``appeal``, only those whose appeal is in that state (the
        pending ones: the appeal queue, oldest appeal first)."""

    @abc.abstractmethod
    def due_to_end(self, now: Instant, *, limit: int = PAGE) -> Sequence[Sanction]:
        """Suspensions in force whose end date is at or before ``now``, earliest end first."""

    @abc.abstractmethod
    def standing_counts(self, therapist_ids: Collection[AccountId], since: Instant) -> Mapping[AccountId, int]:
        """For each of ``therapist_ids`` (every one is in the answer), how many of their sanctions imposed at or
        after ``since`` stand (are not reversed).  One grouped read."""
