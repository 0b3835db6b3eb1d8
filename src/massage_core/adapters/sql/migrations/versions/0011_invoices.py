"""Invoices for paid orders (decision 0030).

One table: title name and email encrypted per field, the credit code in clear, ``live_order_id`` unique
(one live invoice per order; NULL once voided), lookups by customer, by state (the finance queue), by order
and by invoice number.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from massage_core.adapters.sql.types import UtcInstant

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create invoices with its constraints and four indexes."""
    op.create_table(
        "invoices",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("order_id", sa.String(40), nullable=False),
        sa.Column("live_order_id", sa.String(40), nullable=True),
        sa.Column("customer_id", sa.String(40), nullable=False),
        sa.Column("title_kind", sa.String(16), nullable=False),
        sa.Column("title_name_enc", sa.Text(), nullable=False),
        sa.Column("credit_code", sa.String(18), nullable=True),
        sa.Column("email_enc", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("requested_at", UtcInstant(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=True),
        sa.Column("number", sa.String(20), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("issued_at", UtcInstant(), nullable=True),
        sa.Column("voided_at", UtcInstant(), nullable=True),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("live_order_id", name=op.f("uq_invoices_live_order_id")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_invoices_order_id_orders")),
        sa.ForeignKeyConstraint(["customer_id"], ["accounts.id"], name=op.f("fk_invoices_customer_id_accounts")),
        sa.CheckConstraint("state IN ('requested', 'issued', 'voided')", name=op.f("ck_invoices_state")),
        sa.CheckConstraint("(title_kind = 'company') = (credit_code IS NOT NULL)", name=op.f("ck_invoices_title")),
        sa.CheckConstraint("amount_fen IS NULL OR amount_fen > 0", name=op.f("ck_invoices_amount_positive")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_invoices_version_positive")),
    )
    op.create_index(op.f("ix_invoices_customer_id_requested_at"), "invoices", ["customer_id", "requested_at"])
    op.create_index(op.f("ix_invoices_state_requested_at"), "invoices", ["state", "requested_at"])
    op.create_index(op.f("ix_invoices_order_id"), "invoices", ["order_id"])
    op.create_index(op.f("ix_invoices_number"), "invoices", ["number"])


def downgrade() -> None:
    """Drop the indexes and the table."""
    for name in ("ix_invoices_number", "ix_invoices_order_id", "ix_invoices_state_requested_at",
                 "ix_invoices_customer_id_requested_at"):
        op.drop_index(op.f(name), table_name="invoices")
    op.drop_table("invoices")
