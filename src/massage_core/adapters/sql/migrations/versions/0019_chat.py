"""Order chat and virtual numbers (decision 0045).

Three tables: ``chat_messages`` (keyed by order and sequence number; the masked text encrypted in
``text_enc``; looked up by order, sender and time for the rate limit), ``chat_reads`` (each account's read
mark per order) and ``number_bindings`` (one virtual-number binding per order; looked up by release and
expiry for the release rule).

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from massage_core.adapters.sql.types import UtcInstant

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create chat_messages, chat_reads and number_bindings with their constraints and indexes."""
    op.create_table(
        "chat_messages",
        sa.Column("order_id", sa.String(40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("sender_id", sa.String(40), nullable=False),
        sa.Column("party", sa.String(32), nullable=False),
        sa.Column("text_enc", sa.Text(), nullable=False),
        sa.Column("findings", sa.String(200), nullable=False),
        sa.Column("sent_at", UtcInstant(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "seq", name=op.f("pk_chat_messages")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_chat_messages_order_id_orders")),
        sa.ForeignKeyConstraint(["sender_id"], ["accounts.id"], name=op.f("fk_chat_messages_sender_id_accounts")),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_chat_messages_seq_positive")),
        sa.CheckConstraint("party IN ('customer', 'therapist')", name=op.f("ck_chat_messages_party")),
    )
    op.create_index(op.f("ix_chat_messages_order_id_sender_id_sent_at"), "chat_messages",
                    ["order_id", "sender_id", "sent_at"])
    op.create_table(
        "chat_reads",
        sa.Column("order_id", sa.String(40), nullable=False),
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("read_at", UtcInstant(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "account_id", name=op.f("pk_chat_reads")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_chat_reads_order_id_orders")),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_chat_reads_account_id_accounts")),
        sa.CheckConstraint("seq >= 0", name=op.f("ck_chat_reads_seq_not_negative")),
    )
    op.create_table(
        "number_bindings",
        sa.Column("order_id", sa.String(40), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("reference", sa.String(128), nullable=False),
        sa.Column("customer_id", sa.String(40), nullable=False),
        sa.Column("therapist_id", sa.String(40), nullable=False),
        sa.Column("bound_at", UtcInstant(), nullable=False),
        sa.Column("expires_at", UtcInstant(), nullable=False),
        sa.Column("released_at", UtcInstant(), nullable=True),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_number_bindings")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_number_bindings_order_id_orders")),
        sa.ForeignKeyConstraint(["customer_id"], ["accounts.id"],
                                name=op.f("fk_number_bindings_customer_id_accounts")),
        sa.ForeignKeyConstraint(["therapist_id"], ["accounts.id"],
                                name=op.f("fk_number_bindings_therapist_id_accounts")),
    )
    op.create_index(op.f("ix_number_bindings_released_at_expires_at"), "number_bindings",
                    ["released_at", "expires_at"])


def downgrade() -> None:
    """Drop the indexes and the tables."""
    op.drop_index(op.f("ix_number_bindings_released_at_expires_at"), table_name="number_bindings")
    op.drop_table("number_bindings")
    op.drop_table("chat_reads")
    op.drop_index(op.f("ix_chat_messages_order_id_sender_id_sent_at"), table_name="chat_messages")
    op.drop_table("chat_messages")
