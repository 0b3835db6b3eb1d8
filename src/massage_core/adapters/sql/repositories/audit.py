"""The hash-chained audit trail and its separately kept head."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.engine import Connection

from massage_core.adapters.sql.repositories._guard import guarded
from massage_core.adapters.sql.tables import AUDIT_HEAD_ROW, audit_head, audit_log
from massage_core.domain.audit import AuditEntry, AuditOutcome, AuditRecord
from massage_core.domain.errors import IntegrityError
from massage_core.domain.ids import AuditEntryId
from massage_core.domain.time import Instant
from massage_core.ports.ids import IdGenerator
from massage_core.ports.repositories import AuditTrail

DUPLICATE = "audit.duplicate"


def _details_text(details: tuple[tuple[str, str], ...]) -> str:
    return json.dumps([list(pair) for pair in details], ensure_ascii=False, separators=(",", ":"))


def _details(text: str) -> tuple[tuple[str, str], ...]:
    try:
        raw = json.loads(text)
    except ValueError:
        raise IntegrityError("audit entry details are not valid JSON", code="audit.details") from None
    pairs: list[tuple[str, str]] = []
    for pair in raw if isinstance(raw, list) else [None]:
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(part, str) for part in pair)):
            raise IntegrityError("audit entry details are malformed", code="audit.details")
        pairs.append((pair[0], pair[1]))
    return tuple(pairs)


def _to_entry(row: Row[Any]) -> AuditEntry:
    return AuditEntry(
        id=AuditEntryId(row.id),
        sequence=row.sequence,
        at=row.at,
        actor=row.actor,
        action=row.action,
        target=row.target,
        outcome=AuditOutcome(row.outcome),
        details=_details(row.details),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


class SqlAuditTrail(AuditTrail):
    """``audit_log`` rows chained by hash; ``audit_head`` records the newest (sequence, hash).

    Appenders are serialised: on PostgreSQL by locking the head row
    (``SELECT ... FOR UPDATE``) until the transaction ends; on SQLite the
    ``BEGIN IMMEDIATE`` transaction already holds the database's write lock.
    """

    def __init__(self, connection: Connection, ids: IdGenerator) -> None:
        """Work inside ``connection``'s transaction; ``ids`` names new entries."""
        self._conn = connection
        self._ids = ids

    def _lock_head(self) -> None:
        locked = self._conn.execute(
            select(audit_head.c.sequence).where(audit_head.c.id == AUDIT_HEAD_ROW).with_for_update()
        ).first()
        if locked is None:
            with guarded(self._conn, duplicate=DUPLICATE):
                self._conn.execute(insert(audit_head).values(id=AUDIT_HEAD_ROW, sequence=0, hash=""))
            self._conn.execute(select(audit_head.c.sequence).where(audit_head.c.id == AUDIT_HEAD_ROW).with_for_update())

    def append(self, record: AuditRecord, at: Instant) -> AuditEntry:
        """Lock the head, chain after the newest entry, store it and move the head."""
        self._lock_head()
        last = self._conn.execute(select(audit_log).order_by(audit_log.c.sequence.desc()).limit(1)).first()
        previous = _to_entry(last) if last is not None else None
        entry = AuditEntry.chain(AuditEntryId(self._ids.new_id("audit_entry")), record, at, previous)
        with guarded(self._conn, duplicate=DUPLICATE):
            self._conn.execute(
                insert(audit_log).values(
                    sequence=entry.sequence,
                    id=entry.id,
                    at=entry.at,
                    actor=entry.actor,
                    action=entry.action,
                    target=entry.target,
                    outcome=entry.outcome.value,
                    details=_details_text(entry.details),
                    prev_hash=entry.prev_hash,
                    hash=entry.hash,
                )
            )
            self._conn.execute(
                update(audit_head)
                .where(audit_head.c.id == AUDIT_HEAD_ROW)
                .values(sequence=entry.sequence, hash=entry.hash)
            )
        return entry

    def entries(self, *, after_sequence: int = 0, limit: int | None = None) -> Sequence[AuditEntry]:
        """Entries by sequence after ``after_sequence``, at most ``limit``."""
        query = select(audit_log).where(audit_log.c.sequence > after_sequence).order_by(audit_log.c.sequence)
        if limit is not None:
            query = query.limit(max(limit, 0))
        return [_to_entry(row) for row in self._conn.execute(query)]

    def head(self) -> tuple[int, str]:
        """The recorded (sequence, hash) of the newest entry; (0, "") when empty."""
        row = self._conn.execute(
            select(audit_head.c.sequence, audit_head.c.hash).where(audit_head.c.id == AUDIT_HEAD_ROW)
        ).first()
        if row is None or row.sequence == 0:
            return (0, "")
        return (int(row.sequence), str(row.hash))
