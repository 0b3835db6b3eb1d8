"""Withdrawal table, on the shared ``metadata`` of ``tables.py`` (decision 0033; migration 0013).

``withdrawals`` holds one row per withdrawal request: the therapist, the amount and the fee in integer fen
(one ``currency``), the state, who decided and when, the rejection or failure reason, when the payout settled and the provider's reference,
and the optimistic ``version``.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, Index, Integer, String, Text, Table

from massage_core.adapters.sql.tables import ID, metadata
from massage_core.adapters.sql.types import UtcInstant

CURRENCY = 3
STATE = 16
REFERENCE = 64

withdrawals = Table(
    "withdrawals",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("therapist_id", String(ID), ForeignKey("accounts.id"), nullable=False),
    Column("currency", String(CURRENCY), nullable=False),
    Column("amount_fen", BigInteger(), nullable=False),
    Column("fee_fen", BigInteger(), nullable=False),
    Column("state", String(STATE), nullable=False),
    Column("requested_at", UtcInstant(), nullable=False),
    Column("decided_by", String(ID), nullable=True),
    Column("decided_at", UtcInstant(), nullable=True),
    Column("reason", Text(), nullable=True),
    Column("settled_at", UtcInstant(), nullable=True),
    Column("payout_reference", String(REFERENCE), nullable=True),
    Column("version", Integer(), nullable=False),
    CheckConstraint("state IN ('requested', 'approved', 'paid', 'failed', 'rejected')", name="state"),
    CheckConstraint("amount_fen > 0 AND fee_fen >= 0 AND fee_fen < amount_fen", name="amounts"),
    CheckConstraint("version >= 1", name="version_positive"),
    Index(None, "therapist_id", "requested_at"),
    Index(None, "state", "requested_at"),
)
