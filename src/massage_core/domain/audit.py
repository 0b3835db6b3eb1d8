"""The tamper-evident operation log.

Each entry stores the SHA-256 of the previous entry's hash and its own
canonical content, so editing, deleting, reordering or inserting an entry
breaks the chain at a point ``verify_chain`` names.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Iterable

import attrs
from attrs import frozen

from massage_core.domain.ids import AuditEntryId
from massage_core.domain.time import Instant

GENESIS = "0" * 64


class AuditOutcome(enum.StrEnum):
    OK = "ok"
    DENIED = "denied"
    FAILED = "failed"


@frozen
class AuditRecord:
    """What to log, before it is placed in the chain."""

    actor: str
    action: str
    target: str
    outcome: AuditOutcome
    details: tuple[tuple[str, str], ...] = ()


@frozen
class AuditEntry:
    """An entry in the chain; ``sequence`` starts at 1."""

    id: AuditEntryId
    sequence: int
    at: Instant
    actor: str
    action: str
    target: str
    outcome: AuditOutcome
    details: tuple[tuple[str, str], ...]
    prev_hash: str
    hash: str

    @classmethod
    def chain(cls, entry_id: AuditEntryId, record: AuditRecord, at: Instant, previous: AuditEntry | None) -> AuditEntry:
        """Place ``record`` after ``previous`` (None for the first entry)."""
        sequence = previous.sequence + 1 if previous else 1
        prev_hash = previous.hash if previous else GENESIS
        draft = cls(
            id=entry_id,
            sequence=sequence,
            at=at,
            actor=record.actor,
            action=record.action,
            target=record.target,
            outcome=record.outcome,
            details=record.details,
            prev_hash=prev_hash,
            hash="",
        )
        return attrs.evolve(draft, hash=draft.compute_hash())

    def canonical(self) -> bytes:
        """The exact bytes that are hashed (everything but ``hash``)."""
        body = {
            "id": self.id,
            "sequence": self.sequence,
            "at": self.at.in_timezone("UTC").isoformat(),
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "outcome": self.outcome.value,
            "details": [list(d) for d in self.details],
            "prev_hash": self.prev_hash,
        }
        return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def compute_hash(self) -> str:
        return hashlib.sha256(self.prev_hash.encode("ascii") + self.canonical()).hexdigest()


@frozen
class ChainReport:
    """Result of walking the chain: ok, or the first broken entry and why."""

    checked: int
    broken_at: int | None = None
    broken_id: str | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify_chain(entries: Iterable[AuditEntry], head: tuple[int, str] | None = None) -> ChainReport:
    """Walk entries in stored order; report the first that breaks the chain.

    ``head`` is the separately kept (sequence, hash) of the newest entry; when
    given, a chain that stops short of it (its tail was cut off) is broken too.
    """
    prev_hash = GENESIS
    expected_seq = 1
    checked = 0
    for entry in entries:
        if entry.sequence != expected_seq:
            reason = "a sequence number is missing or out of order"
            return ChainReport(checked, entry.sequence, entry.id, reason)
        if entry.prev_hash != prev_hash:
            return ChainReport(checked, entry.sequence, entry.id, "does not link to the previous entry")
        if entry.compute_hash() != entry.hash:
            return ChainReport(checked, entry.sequence, entry.id, "content does not match its hash")
        prev_hash = entry.hash
        expected_seq += 1
        checked += 1
    if head is not None and (expected_seq - 1, prev_hash) != (head[0], head[1] if head[0] else GENESIS):
        return ChainReport(checked, expected_seq, None, f"the chain ends before its recorded head #{head[0]}")
    return ChainReport(checked)
