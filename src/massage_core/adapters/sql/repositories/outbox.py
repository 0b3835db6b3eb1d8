"""The outbox on SQL: the ``outbox_messages`` table (decision 0041).

``add`` is ``INSERT ... ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`` (SQLite and PostgreSQL
dialects; the returned rows count what was new -- SQLite's rowcount does not), so a second write of the same
event for the same recipient and channel stores nothing and raises nothing -- the caller's transaction goes
on.  ``claim_due`` sets ``lease_until`` on the due pending messages that no
running lease holds and returns them: on PostgreSQL the rows are picked by a subquery ``FOR UPDATE SKIP
LOCKED`` (two dispatchers at once pick disjoint rows; a row another one just leased fails the re-checked
condition), on SQLite by a plain ``UPDATE ... WHERE id IN (SELECT ... LIMIT n) RETURNING`` (the unit's
``BEGIN IMMEDIATE`` already serialises writers).  ``record`` is a compare-and-set on the run's own
``lease_until`` (and the pending state).  Subject and body are FieldCipher tokens bound to the
message id (``fields.OUTBOX_SUBJECT``, ``OUTBOX_BODY``); ``last_error`` is stored in the clear (the
dispatcher masks contact details in it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Row, Select, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from massage_core.adapters.sql.engine import translating
from massage_core.adapters.sql.fields import OUTBOX_BODY, OUTBOX_SUBJECT, FieldCodec
from massage_core.adapters.sql.tables_notifications import outbox_messages
from massage_core.domain.errors import NotFound
from massage_core.domain.notifications import Category, Channel, Urgency
from massage_core.domain.outbox import OutboxMessage, OutboxState
from massage_core.domain.time import Instant
from massage_core.ports.outbox import PAGE, OutboxRepository

_o = outbox_messages
_COLUMNS = [c for c in _o.c if c.name != "lease_until"]


class SqlOutboxRepository(OutboxRepository):
    """The ``outbox_messages`` table; see the module docstring."""

    def __init__(self, connection: Connection, codec: FieldCodec) -> None:
        self._conn = connection
        self._codec = codec

    def _to_message(self, row: Row[Any]) -> OutboxMessage:
        key = (row.id,)
        return OutboxMessage(
            id=row.id, dedupe_key=row.dedupe_key, recipient=row.recipient, channel=Channel(row.channel),
            category=Category(row.category), urgency=Urgency(row.urgency),
            subject=self._codec.open(OUTBOX_SUBJECT, key, row.subject_enc),
            body=self._codec.open(OUTBOX_BODY, key, row.body_enc), created_at=row.created_at,
            due_at=row.due_at, state=OutboxState(row.state), attempts=row.attempts, last_error=row.last_error,
            sent_at=row.sent_at)

    def _many(self, query: Select[Any]) -> list[OutboxMessage]:
        return [self._to_message(row) for row in self._conn.execute(query)]

    def add(self, messages: Sequence[OutboxMessage]) -> int:
        """One INSERT ... ON CONFLICT DO NOTHING RETURNING for all of ``messages`` (SQLAlchemy sends it as
        multi-row VALUES batches); the rows that come back are the new ones."""
        if not messages:
            return 0
        dialect = pg_insert if self._conn.dialect.name == "postgresql" else sqlite_insert
        rows = [dict(id=m.id, dedupe_key=m.dedupe_key, recipient=m.recipient, channel=m.channel.value,
                     category=m.category.value, urgency=m.urgency.value,
                     subject_enc=self._codec.seal(OUTBOX_SUBJECT, (m.id,), m.subject),
                     body_enc=self._codec.seal(OUTBOX_BODY, (m.id,), m.body), created_at=m.created_at,
                     due_at=m.due_at, state=m.state.value, attempts=m.attempts, last_error=m.last_error,
                     sent_at=m.sent_at, lease_until=None) for m in messages]
        statement = dialect(_o).on_conflict_do_nothing(index_elements=[_o.c.dedupe_key]).returning(_o.c.id)
        with translating():
            return len(self._conn.execute(statement, rows).all())

    def get(self, ident: str) -> OutboxMessage:
        row = self._conn.execute(select(*_COLUMNS).where(_o.c.id == ident)).first()
        if row is None:
            raise NotFound("outbox message", ident)
        return self._to_message(row)

    def claim_due(self, now: Instant, lease_until: Instant, limit: int) -> Sequence[OutboxMessage]:
        if limit < 1:
            return []
        due = (select(_o.c.id)
               .where(_o.c.state == OutboxState.PENDING.value, _o.c.due_at <= now,
                      or_(_o.c.lease_until.is_(None), _o.c.lease_until <= now))
               .order_by(_o.c.due_at, _o.c.id).limit(limit))
        if self._conn.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        claim = (update(_o).where(_o.c.id.in_(due.scalar_subquery()))
                 .values(lease_until=lease_until).returning(*_COLUMNS))
        with translating():
            claimed = [self._to_message(row) for row in self._conn.execute(claim)]
        return sorted(claimed, key=lambda m: (m.due_at, m.id))

    def save(self, message: OutboxMessage) -> None:
        with translating():
            result = self._conn.execute(update(_o).where(_o.c.id == message.id).values(
                state=message.state.value, attempts=message.attempts, last_error=message.last_error,
                due_at=message.due_at, sent_at=message.sent_at, lease_until=None))
        if result.rowcount == 0:
            raise NotFound("outbox message", message.id)

    def record(self, message: OutboxMessage, lease_until: Instant) -> bool:
        """One ``UPDATE ... WHERE id = :id AND state = 'pending' AND lease_until = :lease``: the row is
        written only under the run's own lease (PostgreSQL re-checks the condition on a row another run just
        changed)."""
        with translating():
            result = self._conn.execute(update(_o).where(
                _o.c.id == message.id, _o.c.state == OutboxState.PENDING.value, _o.c.lease_until == lease_until,
            ).values(state=message.state.value, attempts=message.attempts, last_error=message.last_error,
                     due_at=message.due_at, sent_at=message.sent_at, lease_until=None))
        return bool(result.rowcount == 1)

    def list(self, state: OutboxState | None = None, *, offset: int = 0,
             limit: int = PAGE) -> Sequence[OutboxMessage]:
        query = select(*_COLUMNS)
        if state is not None:
            query = query.where(_o.c.state == OutboxState(state).value)
        return self._many(query.order_by(_o.c.created_at, _o.c.id).offset(max(offset, 0)).limit(max(limit, 0)))

    def counts(self) -> Mapping[OutboxState, int]:
        found = {state: n for state, n in self._conn.execute(select(_o.c.state, func.count()).group_by(_o.c.state))}
        return {state: found.get(state.value, 0) for state in OutboxState}
