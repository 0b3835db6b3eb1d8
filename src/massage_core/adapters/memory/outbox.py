"""In-memory outbox with the contract of the SQL one (the store's lock makes a claim atomic)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from massage_core.adapters.memory.store import Tables
from massage_core.domain.errors import NotFound
from massage_core.domain.outbox import OutboxMessage, OutboxState
from massage_core.domain.time import Instant
from massage_core.ports.outbox import PAGE, OutboxRepository


class MemoryOutboxRepository(OutboxRepository):
    """Messages by id, their dedupe keys, and the leases of claimed messages."""

    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def add(self, messages: Sequence[OutboxMessage]) -> int:
        stored = 0
        for message in messages:
            if message.dedupe_key in self._t.outbox_keys:
                continue
            self._t.outbox[message.id] = message
            self._t.outbox_keys[message.dedupe_key] = message.id
            stored += 1
        return stored

    def get(self, ident: str) -> OutboxMessage:
        try:
            return self._t.outbox[ident]
        except KeyError:
            raise NotFound("outbox message", ident) from None

    def claim_due(self, now: Instant, lease_until: Instant, limit: int) -> Sequence[OutboxMessage]:
        leases = self._t.outbox_leases
        due = sorted((m for m in self._t.outbox.values()
                      if m.state is OutboxState.PENDING and m.due_at <= now
                      and (m.id not in leases or leases[m.id] <= now)),
                     key=lambda m: (m.due_at, m.id))[:max(limit, 0)]
        for message in due:
            leases[message.id] = lease_until
        return due

    def save(self, message: OutboxMessage) -> None:
        self.get(message.id)
        self._t.outbox[message.id] = message
        self._t.outbox_leases.pop(message.id, None)

    def record(self, message: OutboxMessage, lease_until: Instant) -> bool:
        stored = self._t.outbox.get(message.id)
        if stored is None or stored.state is not OutboxState.PENDING \
                or self._t.outbox_leases.get(message.id) != lease_until:
            return False
        self.save(message)
        return True

    def list(self, state: OutboxState | None = None, *, offset: int = 0,
             limit: int = PAGE) -> Sequence[OutboxMessage]:
        found = sorted((m for m in self._t.outbox.values() if state is None or m.state is state),
                       key=lambda m: (m.created_at, m.id))
        start = max(offset, 0)
        return found[start:start + max(limit, 0)]

    def counts(self) -> Mapping[OutboxState, int]:
        counted = Counter(m.state for m in self._t.outbox.values())
        return {state: counted.get(state, 0) for state in OutboxState}
