"""In-memory order chat with the contract of the SQL one (``ports/chat.py``): the store's lock serialises
sends, so numbering is a plain count."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import attrs

from massage_core.adapters.memory.store import Tables
from massage_core.domain.chat import AFTER_STATES, VISIT_STATES, ChatMessage, NumberBinding, entered
from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.ids import AccountId
from massage_core.domain.order_states import OrderId
from massage_core.domain.time import Instant
from massage_core.ports.chat import BINDING_EXISTS, PAGE, ChatRepository


class MemoryChatRepository(ChatRepository):
    """Messages as a tuple per order, read marks and bindings in dicts."""

    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def _of(self, order_id: OrderId) -> tuple[ChatMessage, ...]:
        return self._t.chat_messages.get(order_id, ())

    def add(self, message: ChatMessage) -> ChatMessage:
        known = self._of(message.order_id)
        stored = attrs.evolve(message, seq=len(known) + 1)
        self._t.chat_messages[message.order_id] = (*known, stored)
        return stored

    def latest(self, order_id: OrderId, *, offset: int = 0, limit: int = PAGE) -> Sequence[ChatMessage]:
        known = self._of(order_id)
        end = max(len(known) - max(offset, 0), 0)
        return list(known[max(end - max(limit, 0), 0):end])

    def last_seq(self, order_id: OrderId) -> int:
        return len(self._of(order_id))

    def sent_since(self, order_id: OrderId, sender_id: AccountId, since: Instant) -> int:
        return sum(1 for m in self._of(order_id) if m.sender_id == sender_id and m.sent_at > since)

    def read_mark(self, order_id: OrderId, account_id: AccountId) -> int:
        return self._t.chat_reads.get((order_id, account_id), 0)

    def mark_read(self, order_id: OrderId, account_id: AccountId, seq: int, at: Instant) -> int:
        mark = max(self.read_mark(order_id, account_id), seq)
        self._t.chat_reads[(order_id, account_id)] = mark
        return mark

    def unread(self, order_id: OrderId, account_id: AccountId) -> int:
        mark = self.read_mark(order_id, account_id)
        return sum(1 for m in self._of(order_id) if m.seq > mark and m.sender_id != account_id)

    def binding(self, order_id: OrderId) -> NumberBinding | None:
        return self._t.number_bindings.get(order_id)

    def add_binding(self, binding: NumberBinding) -> NumberBinding:
        if binding.order_id in self._t.number_bindings:
            raise Conflict(f"order {binding.order_id} already has a number binding", code=BINDING_EXISTS)
        self._t.number_bindings[binding.order_id] = binding
        return binding

    def save_binding(self, binding: NumberBinding) -> NumberBinding:
        if binding.order_id not in self._t.number_bindings:
            raise NotFound("number binding", binding.order_id)
        self._t.number_bindings[binding.order_id] = binding
        return binding

    def unreleased(self, now: Instant, *, after_hours: int, limit: int = PAGE) -> Sequence[NumberBinding]:
        closed_before = now - dt.timedelta(hours=after_hours)

        def due(binding: NumberBinding) -> bool:
            order = self._t.orders.get(binding.order_id)
            if now >= binding.expires_at or order is None:
                return True
            if order.state in AFTER_STATES:
                return entered(order) <= closed_before
            return order.state not in VISIT_STATES

        found = sorted((b for b in self._t.number_bindings.values() if b.released_at is None and due(b)),
                       key=lambda b: (b.expires_at, b.order_id))
        return found[:max(limit, 0)]
