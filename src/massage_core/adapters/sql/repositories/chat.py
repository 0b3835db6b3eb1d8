"""Order chat: ``chat_messages``, ``chat_reads`` and ``number_bindings`` (decision 0045).

A message's (already masked) text is a FieldCipher token bound to (order, seq).  ``add`` numbers a message
one above the order's newest; when a concurrent send took that number first (PostgreSQL: the insert waits for
the other transaction and then hits the primary key), it reads the newest again and retries, inside a
savepoint each time.  A read mark only goes up.  ``add_binding`` relies on the primary key (order) as well: of
two concurrent first bindings one is stored, the other gets Conflict ``chat.binding_exists``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.engine import Connection

from massage_core.adapters.sql.fields import CHAT_TEXT, FieldCodec
from massage_core.adapters.sql.repositories._guard import guarded
from massage_core.adapters.sql.tables_chat import chat_messages, chat_reads, number_bindings
from massage_core.adapters.sql.tables_orders import orders
from massage_core.domain.chat import AFTER_STATES, VISIT_STATES, ChatMessage, ChatParty, NumberBinding
from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.ids import AccountId
from massage_core.domain.order_states import OrderId
from massage_core.domain.time import Instant
from massage_core.ports.chat import BINDING_EXISTS, PAGE, ChatRepository

SEQ_TAKEN = "chat.seq_taken"
ATTEMPTS = 8

_m, _r, _b = chat_messages, chat_reads, number_bindings
_LAST = select(func.coalesce(func.max(_m.c.seq), 0)).where(_m.c.order_id == bindparam("p_order"))
_MARK = select(_r.c.seq).where(_r.c.order_id == bindparam("p_order"), _r.c.account_id == bindparam("p_account"))
_BINDING = select(_b).where(_b.c.order_id == bindparam("p_order"))


def _binding_values(binding: NumberBinding) -> dict[str, Any]:
    return {"number": binding.number, "reference": binding.reference, "customer_id": binding.customer_id,
            "therapist_id": binding.therapist_id, "bound_at": binding.bound_at, "expires_at": binding.expires_at,
            "released_at": binding.released_at}


def _to_binding(row: Row[Any]) -> NumberBinding:
    return NumberBinding(OrderId(row.order_id), row.number, row.reference, AccountId(row.customer_id),
                         AccountId(row.therapist_id), row.bound_at, row.expires_at, row.released_at)


class SqlChatRepository(ChatRepository):
    """The chat tables; see the module docstring."""

    def __init__(self, connection: Connection, codec: FieldCodec) -> None:
        """Work inside ``connection``'s transaction, sealing message texts with ``codec``."""
        self._conn = connection
        self._codec = codec

    def _message(self, row: Row[Any]) -> ChatMessage:
        text = self._codec.open(CHAT_TEXT, (row.order_id, row.seq), row.text_enc)
        return ChatMessage(OrderId(row.order_id), row.seq, AccountId(row.sender_id), ChatParty(row.party), text,
                           tuple(row.findings.split(",")) if row.findings else (), row.sent_at)

    def add(self, message: ChatMessage) -> ChatMessage:
        for attempt in range(ATTEMPTS):
            seq = self.last_seq(message.order_id) + 1
            token = self._codec.seal(CHAT_TEXT, (message.order_id, seq), message.text)
            try:
                with guarded(self._conn, duplicate=SEQ_TAKEN):
                    self._conn.execute(insert(_m).values(
                        order_id=message.order_id, seq=seq, sender_id=message.sender_id, party=message.party.value,
                        text_enc=token, findings=",".join(message.findings), sent_at=message.sent_at))
            except Conflict as clash:
                if clash.code == SEQ_TAKEN and attempt + 1 < ATTEMPTS:
                    continue
                if clash.code == SEQ_TAKEN:
                    raise Conflict("the chat is busy; try again", code="conflict.busy") from clash
                raise
            return ChatMessage(message.order_id, seq, message.sender_id, message.party, message.text,
                               message.findings, message.sent_at)
        raise AssertionError("unreachable")  # pragma: no cover

    def latest(self, order_id: OrderId, *, offset: int = 0, limit: int = PAGE) -> Sequence[ChatMessage]:
        rows = self._conn.execute(select(_m).where(_m.c.order_id == order_id).order_by(_m.c.seq.desc())
                                  .offset(max(offset, 0)).limit(max(limit, 0))).all()
        return [self._message(row) for row in reversed(rows)]

    def last_seq(self, order_id: OrderId) -> int:
        return int(self._conn.execute(_LAST, {"p_order": order_id}).scalar_one())

    def sent_since(self, order_id: OrderId, sender_id: AccountId, since: Instant) -> int:
        query = select(func.count()).select_from(_m).where(_m.c.order_id == order_id, _m.c.sender_id == sender_id,
                                                           _m.c.sent_at > since)
        return int(self._conn.execute(query).scalar_one())

    def read_mark(self, order_id: OrderId, account_id: AccountId) -> int:
        mark = self._conn.execute(_MARK, {"p_order": order_id, "p_account": account_id}).scalar_one_or_none()
        return int(mark) if mark is not None else 0

    def mark_read(self, order_id: OrderId, account_id: AccountId, seq: int, at: Instant) -> int:
        where = and_(_r.c.order_id == order_id, _r.c.account_id == account_id)
        for _ in range(2):
            if self._conn.execute(select(_r.c.seq).where(where)).first() is not None:
                self._conn.execute(update(_r).where(where, _r.c.seq < seq).values(seq=seq, read_at=at))
                return self.read_mark(order_id, account_id)
            try:
                with guarded(self._conn, duplicate="chat.read_exists"):
                    self._conn.execute(insert(_r).values(order_id=order_id, account_id=account_id, seq=max(seq, 0),
                                                         read_at=at))
                return max(seq, 0)
            except Conflict as clash:
                if clash.code != "chat.read_exists":
                    raise
        return self.read_mark(order_id, account_id)  # pragma: no cover (a concurrent insert won twice)

    def unread(self, order_id: OrderId, account_id: AccountId) -> int:
        mark = self.read_mark(order_id, account_id)
        query = select(func.count()).select_from(_m).where(_m.c.order_id == order_id, _m.c.seq > mark,
                                                           _m.c.sender_id != account_id)
        return int(self._conn.execute(query).scalar_one())

    def binding(self, order_id: OrderId) -> NumberBinding | None:
        row = self._conn.execute(_BINDING, {"p_order": order_id}).first()
        return _to_binding(row) if row is not None else None

    def add_binding(self, binding: NumberBinding) -> NumberBinding:
        with guarded(self._conn, duplicate=BINDING_EXISTS):
            self._conn.execute(insert(_b).values(order_id=binding.order_id, **_binding_values(binding)))
        return binding

    def save_binding(self, binding: NumberBinding) -> NumberBinding:
        done = self._conn.execute(update(_b).where(_b.c.order_id == binding.order_id)
                                  .values(**_binding_values(binding)))
        if done.rowcount != 1:
            raise NotFound("number binding", binding.order_id)
        return binding

    def unreleased(self, now: Instant, *, after_hours: int, limit: int = PAGE) -> Sequence[NumberBinding]:
        """Only releasable bindings pass the WHERE, before the LIMIT: expired, of an ended order, or of a
        completed / disputed order whose ``entered_at`` is ``after_hours`` old (its chat closed)."""
        visiting = [state.value for state in VISIT_STATES]
        after = [state.value for state in AFTER_STATES]
        closed = and_(orders.c.state.in_(after), orders.c.entered_at <= now - dt.timedelta(hours=after_hours))
        query = (select(_b).join(orders, orders.c.id == _b.c.order_id)
                 .where(_b.c.released_at.is_(None),
                        or_(_b.c.expires_at <= now, orders.c.state.not_in(visiting + after), closed))
                 .order_by(_b.c.expires_at, _b.c.order_id).limit(max(limit, 0)))
        rows = self._conn.execute(query).all()
        return [_to_binding(row) for row in rows]
