"""Invoice table, on the shared ``metadata`` of ``tables.py`` (decision 0030; migration 0011).

``invoices`` holds one row per invoice request.  The title's name and the delivery email are personal data,
encrypted per field (``title_name_enc``, ``email_enc``; registered in ``fields.ENCRYPTED_FIELDS``).  The
company's credit code is public registry data and stays in clear (``credit_code``, NULL for a personal
title; a check constraint ties it to ``title_kind``).  ``live_order_id`` is the order id while the invoice is
live and NULL once voided: its unique constraint makes "one live invoice per order" hold under concurrent
requests on every database.  Money in integer fen with one ``currency``; ``version`` is the optimistic lock.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, Date, ForeignKey, Index, Integer, String, Table, Text

from massage_core.adapters.sql.tables import ID, metadata
from massage_core.adapters.sql.types import UtcInstant

CURRENCY = 3
CREDIT_CODE = 18
NUMBER = 20
STATE = 16

invoices = Table(
    "invoices",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("order_id", String(ID), ForeignKey("orders.id"), nullable=False),
    Column("live_order_id", String(ID), nullable=True, unique=True),
    Column("customer_id", String(ID), ForeignKey("accounts.id"), nullable=False),
    Column("title_kind", String(STATE), nullable=False),
    Column("title_name_enc", Text(), nullable=False),
    Column("credit_code", String(CREDIT_CODE), nullable=True),
    Column("email_enc", Text(), nullable=False),
    Column("state", String(STATE), nullable=False),
    Column("requested_at", UtcInstant(), nullable=False),
    Column("currency", String(CURRENCY), nullable=True),
    Column("amount_fen", BigInteger(), nullable=True),
    Column("number", String(NUMBER), nullable=True),
    Column("issued_on", Date(), nullable=True),
    Column("issued_at", UtcInstant(), nullable=True),
    Column("voided_at", UtcInstant(), nullable=True),
    Column("void_reason", Text(), nullable=True),
    Column("version", Integer(), nullable=False),
    CheckConstraint("state IN ('requested', 'issued', 'voided')", name="state"),
    CheckConstraint("(title_kind = 'company') = (credit_code IS NOT NULL)", name="title"),
    CheckConstraint("amount_fen IS NULL OR amount_fen > 0", name="amount_positive"),
    CheckConstraint("version >= 1", name="version_positive"),
    Index(None, "customer_id", "requested_at"),
    Index(None, "state", "requested_at"),
    Index(None, "order_id"),
    Index(None, "number"),
)
