"""The complaint repository (``uow.complaints``): complaints about orders and their timelines (decision 0038).

A complaint is stored whole (its timeline steps included) with an optimistic ``version``: ``save`` refuses a
stale copy, so of two concurrent changes of one complaint (two admins resolving it) exactly one is stored.  At
most one *live* complaint (open, therapist_responded, under_mediation) exists per order: memory checks it on
``add``, SQL with a partial unique index as well, so two concurrent filings store one.  A change reads the
complaint with ``get_for_update``, so concurrent changes are serialised on the row and the later one sees the
earlier one's result (and refuses it by the workflow rather than by a stale version).
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

from massage_core.domain.complaints import Complaint, ComplaintId, ComplaintState
from massage_core.domain.ids import AccountId
from massage_core.domain.order_states import OrderId
from massage_core.domain.time import Instant

PAGE = 50
"""The default page size of the lists."""

LIVE_EXISTS = "complaint.already_open"
"""The Conflict code of a second live complaint about one order."""


class ComplaintsRepository(abc.ABC):
    """Complaints by id, by order, by party and by state; see the module docstring."""

    @abc.abstractmethod
    def add(self, complaint: Complaint) -> Complaint:
        """Store a new complaint; return it with version 1.  Conflict ``complaint.already_open`` when the order
        already has a live complaint, ``complaint.duplicate`` for a taken id; on SQL ``conflict.reference`` for
        an unknown order or account."""

    @abc.abstractmethod
    def get(self, ident: ComplaintId) -> Complaint:
        """The complaint, or NotFound."""

    @abc.abstractmethod
    def get_for_update(self, ident: ComplaintId) -> Complaint:
        """The complaint, or NotFound, locked against concurrent changes until the unit of work ends: a second
        unit changing it waits and then reads what the first one committed (PostgreSQL: ``SELECT ... FOR
        UPDATE``; SQLite and memory already serialise units of work)."""

    @abc.abstractmethod
    def save(self, complaint: Complaint) -> Complaint:
        """Store the changes of a loaded complaint (new timeline steps are appended); return it with version + 1.
        Conflict ``conflict.stale`` when the stored version differs, NotFound when there is none."""

    @abc.abstractmethod
    def for_order(self, order_id: OrderId) -> Sequence[Complaint]:
        """Every complaint about the order, oldest first."""

    @abc.abstractmethod
    def for_customer(self, customer_id: AccountId, *, offset: int = 0, limit: int = PAGE) -> Sequence[Complaint]:
        """The customer's complaints, newest first."""

    @abc.abstractmethod
    def for_therapist(self, therapist_id: AccountId, *, offset: int = 0, limit: int = PAGE) -> Sequence[Complaint]:
        """Complaints about the therapist, newest first."""

    @abc.abstractmethod
    def list(self, state: ComplaintState | None = None, *, offset: int = 0, limit: int = PAGE) -> Sequence[Complaint]:
        """Complaints (in ``state`` when given), oldest filing first (the mediation queue)."""

    @abc.abstractmethod
    def overdue(self, now: Instant, *, limit: int = PAGE) -> Sequence[ComplaintId]:
        """Ids of open complaints whose ``answer_due`` is at or before ``now``, the earliest due first."""

    @abc.abstractmethod
    def upheld_counts(self, therapist_ids: Sequence[AccountId]) -> dict[AccountId, int]:
        """For each of ``therapist_ids``: how many resolved complaints about them have an outcome other than
        ``no_action`` (withdrawn and unresolved ones do not count).  Every id asked for is in the answer (0 when
        none); one grouped query on SQL."""
