"""The order chat repository (``uow.chat``): messages, read marks and virtual-number bindings (decision 0045).

Messages of an order are numbered 1, 2, ... in the order they were stored; ``add`` gives the next number.  Two
concurrent sends to one order never get one number: memory -- the store's lock; SQLite -- the writer lock;
PostgreSQL -- the primary key (order, seq) refuses the second insert, which retries with the next number.
The SQL adapter keeps the (already masked) text as a FieldCipher token bound to (order, seq).

A read mark is the highest message number an account has read in an order; it never goes back.

One binding row per order: ``add_binding`` refuses a second one (Conflict ``chat.binding_exists``; on
PostgreSQL two concurrent inserts store one), ``save_binding`` replaces it (a re-bind or a release).
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

from massage_core.domain.chat import ChatMessage, NumberBinding
from massage_core.domain.ids import AccountId
from massage_core.domain.order_states import OrderId
from massage_core.domain.time import Instant

PAGE = 50
"""The default page size of a chat."""

BINDING_EXISTS = "chat.binding_exists"
"""The Conflict code of a second binding row for one order."""


class ChatRepository(abc.ABC):
    """Chat messages, read marks and number bindings; see the module docstring."""

    @abc.abstractmethod
    def add(self, message: ChatMessage) -> ChatMessage:
        """Store ``message`` (its ``seq`` is ignored) as the order's next message; return it with its number.
        On SQL Conflict ``conflict.reference`` for an unknown order or account."""

    @abc.abstractmethod
    def latest(self, order_id: OrderId, *, offset: int = 0, limit: int = PAGE) -> Sequence[ChatMessage]:
        """A page of the order's messages counted back from the newest: ``offset`` newest ones skipped, then up
        to ``limit`` of the ones before them -- returned oldest first (newest last)."""

    @abc.abstractmethod
    def last_seq(self, order_id: OrderId) -> int:
        """The number of the order's newest message (0 without one)."""

    @abc.abstractmethod
    def sent_since(self, order_id: OrderId, sender_id: AccountId, since: Instant) -> int:
        """How many messages ``sender_id`` stored in the order after ``since`` (strictly)."""

    @abc.abstractmethod
    def read_mark(self, order_id: OrderId, account_id: AccountId) -> int:
        """The highest message number ``account_id`` has read in the order (0: none)."""

    @abc.abstractmethod
    def mark_read(self, order_id: OrderId, account_id: AccountId, seq: int, at: Instant) -> int:
        """Raise the account's read mark to ``seq`` (a lower one keeps the mark); return the mark now stored."""

    @abc.abstractmethod
    def unread(self, order_id: OrderId, account_id: AccountId) -> int:
        """How many of the order's messages, written by somebody else, are above the account's read mark."""

    @abc.abstractmethod
    def binding(self, order_id: OrderId) -> NumberBinding | None:
        """The order's binding row (live, expired or released), None without one."""

    @abc.abstractmethod
    def add_binding(self, binding: NumberBinding) -> NumberBinding:
        """Store the first binding of an order; Conflict ``chat.binding_exists`` when it has one."""

    @abc.abstractmethod
    def save_binding(self, binding: NumberBinding) -> NumberBinding:
        """Replace the order's binding row; NotFound when there is none."""

    @abc.abstractmethod
    def unreleased(self, now: Instant, *, after_hours: int, limit: int = PAGE) -> Sequence[NumberBinding]:
        """Bindings not released yet that are due for release at ``now``, the earliest expiry first: expired,
        or of an order that ended (in none of ``domain.chat.VISIT_STATES`` and ``AFTER_STATES``), or of a
        completed / disputed order that entered that state ``after_hours`` or more before ``now`` (its chat
        has closed).  The choice is made before the ``limit``, so open chats never crowd an ended one out."""
