"""Sanction tables, on the shared ``metadata`` of ``tables.py`` (decision 0039; migration 0016).

``sanctions`` holds one row per sanction: the therapist, the kind, the reason as a FieldCipher token
(``reason_enc``, bound to the sanction id), who imposed it and when, a deduction's amount in integer fen, a
suspension's end, the state, when it ended or was reversed, and the optimistic ``version``.
``sanction_appeals`` holds the appeal: its primary key *is* the sanction id, so the storage itself allows
one appeal per sanction.  The appeal's text and the decision's reason are FieldCipher tokens bound to the
sanction id.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, Index, Integer, String, Table, Text

from massage_core.adapters.sql.tables import ID, NAME, metadata
from massage_core.adapters.sql.types import UtcInstant

CURRENCY = 3

sanctions = Table(
    "sanctions",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("therapist_id", String(ID), ForeignKey("accounts.id"), nullable=False),
    Column("kind", String(NAME), nullable=False),
    Column("reason_enc", Text(), nullable=False),
    Column("imposed_by", String(ID), nullable=True),
    Column("imposed_at", UtcInstant(), nullable=False),
    Column("currency", String(CURRENCY), nullable=True),
    Column("amount_fen", BigInteger(), nullable=True),
    Column("ends_at", UtcInstant(), nullable=True),
    Column("state", String(NAME), nullable=False),
    Column("ended_at", UtcInstant(), nullable=True),
    Column("version", Integer(), nullable=False),
    CheckConstraint("kind IN ('deduction', 'warning', 'suspension')", name="kind"),
    CheckConstraint("state IN ('in_force', 'ended', 'reversed')", name="state"),
    CheckConstraint("(kind = 'deduction') = (amount_fen IS NOT NULL) AND (amount_fen IS NULL OR amount_fen > 0)",
                    name="amount"),
    CheckConstraint("ends_at IS NULL OR kind = 'suspension'", name="ends"),
    CheckConstraint("version >= 1", name="version_positive"),
    Index(None, "therapist_id", "imposed_at"),
    Index(None, "state", "ends_at"),
)

sanction_appeals = Table(
    "sanction_appeals",
    metadata,
    Column("sanction_id", String(ID), ForeignKey("sanctions.id", ondelete="CASCADE"), primary_key=True),
    Column("text_enc", Text(), nullable=False),
    Column("filed_at", UtcInstant(), nullable=False),
    Column("state", String(NAME), nullable=False),
    Column("decided_by", String(ID), nullable=True),
    Column("decided_at", UtcInstant(), nullable=True),
    Column("decision_enc", Text(), nullable=True),
    CheckConstraint("state IN ('pending', 'upheld', 'rejected')", name="state"),
    CheckConstraint("(state = 'pending') = (decided_at IS NULL)", name="decided"),
    Index(None, "state", "filed_at"),
)
