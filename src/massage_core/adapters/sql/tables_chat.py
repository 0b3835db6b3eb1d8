"""Order chat tables, on the shared ``metadata`` of ``tables.py`` (decision 0045; migration 0019).

``chat_messages`` holds one row per message, keyed by (order, seq): the sender and their party, the masked
text as a FieldCipher token bound to (order, seq) in ``text_enc`` (the original text is never stored), the
kinds the screener masked (comma-joined) and when it was sent.  ``chat_reads`` holds each account's read mark
per order (the highest ``seq`` read).  ``number_bindings`` holds one virtual-number binding per order: the
number, the provider's reference, the two parties, when it was bound, its expiry and its release.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, String, Table, Text

from massage_core.adapters.sql.tables import ID, NAME, metadata
from massage_core.adapters.sql.types import UtcInstant

KINDS = 200
NUMBER = 20
REFERENCE = 128

chat_messages = Table(
    "chat_messages",
    metadata,
    Column("order_id", String(ID), ForeignKey("orders.id"), primary_key=True),
    Column("seq", Integer(), primary_key=True, autoincrement=False),
    Column("sender_id", String(ID), ForeignKey("accounts.id"), nullable=False),
    Column("party", String(NAME), nullable=False),
    Column("text_enc", Text(), nullable=False),
    Column("findings", String(KINDS), nullable=False),
    Column("sent_at", UtcInstant(), nullable=False),
    CheckConstraint("seq >= 1", name="seq_positive"),
    CheckConstraint("party IN ('customer', 'therapist')", name="party"),
    Index(None, "order_id", "sender_id", "sent_at"),
)

chat_reads = Table(
    "chat_reads",
    metadata,
    Column("order_id", String(ID), ForeignKey("orders.id"), primary_key=True),
    Column("account_id", String(ID), ForeignKey("accounts.id"), primary_key=True),
    Column("seq", Integer(), nullable=False),
    Column("read_at", UtcInstant(), nullable=False),
    CheckConstraint("seq >= 0", name="seq_not_negative"),
)

number_bindings = Table(
    "number_bindings",
    metadata,
    Column("order_id", String(ID), ForeignKey("orders.id"), primary_key=True),
    Column("number", String(NUMBER), nullable=False),
    Column("reference", String(REFERENCE), nullable=False),
    Column("customer_id", String(ID), ForeignKey("accounts.id"), nullable=False),
    Column("therapist_id", String(ID), ForeignKey("accounts.id"), nullable=False),
    Column("bound_at", UtcInstant(), nullable=False),
    Column("expires_at", UtcInstant(), nullable=False),
    Column("released_at", UtcInstant(), nullable=True),
    Index(None, "released_at", "expires_at"),
)
