"""The outbox (``uow.outbox``): messages written with the change that caused them, claimed by dispatchers.

``add`` is idempotent by dedupe key (the same event for the same recipient and channel is one message).
``claim_due`` hands a dispatcher the due pending messages nobody else holds and leases them until
``lease_until``; a dispatcher that dies leaves its lease to run out, and the next one sends again with the
same dedupe key.  Two dispatchers never hold one message at once: memory -- the store's lock; SQLite -- the
``BEGIN IMMEDIATE`` writer lock; PostgreSQL -- ``FOR UPDATE SKIP LOCKED`` on the claimed rows.  A dispatcher
records its outcome with ``record``, which applies only under the run's own lease, so a run whose lease ran
out mid-send never overwrites the outcome of the run that claimed the message after it.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence

from massage_core.domain.outbox import OutboxMessage, OutboxState
from massage_core.domain.time import Instant

PAGE = 50


class OutboxRepository(abc.ABC):
    """Pending, sent and dead messages; see the module docstring."""

    @abc.abstractmethod
    def add(self, messages: Sequence[OutboxMessage]) -> int:
        """Store the messages whose dedupe key is new; return how many were stored."""

    @abc.abstractmethod
    def get(self, ident: str) -> OutboxMessage:
        """The message, or NotFound."""

    @abc.abstractmethod
    def claim_due(self, now: Instant, lease_until: Instant, limit: int) -> Sequence[OutboxMessage]:
        """Lease up to ``limit`` pending messages due at ``now`` and not leased past ``now``, oldest due
        first, until ``lease_until``."""

    @abc.abstractmethod
    def save(self, message: OutboxMessage) -> None:
        """Store the new state of a message and release its lease; NotFound when there is none."""

    @abc.abstractmethod
    def record(self, message: OutboxMessage, lease_until: Instant) -> bool:
        """Store a dispatcher's outcome for a message it claimed until ``lease_until`` and release the lease,
        only while the stored message is still pending under that very lease (compare-and-set): once the lease
        ran out and another run claimed the message, or finished it, nothing is written.  True when stored."""

    @abc.abstractmethod
    def list(self, state: OutboxState | None = None, *, offset: int = 0,
             limit: int = PAGE) -> Sequence[OutboxMessage]:
        """Messages (in ``state`` when given), oldest first."""

    @abc.abstractmethod
    def counts(self) -> Mapping[OutboxState, int]:
        """How many messages are in each state."""
