"""Orders and their timelines (decision 0016).

Revision ID: 0005
Revises: 0004
Create Date: 2026-01-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from massage_core.adapters.sql.types import UtcInstant

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

INDEXES = (
    ("ix_orders_customer_id_placed_at", ["customer_id", "placed_at"]),
    ("ix_orders_therapist_id_state_placed_at", ["therapist_id", "state", "placed_at"]),
    ("ix_orders_state_placed_at", ["state", "placed_at"]),
    ("ix_orders_state_entered_at", ["state", "entered_at"]),
)


def upgrade() -> None:
    """Create orders (with its list and timer indexes) and order_timeline."""
    op.create_table(
        "orders",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("customer_id", sa.String(40), nullable=False),
        sa.Column("therapist_id", sa.String(40), nullable=True),
        sa.Column("service_id", sa.String(40), nullable=False),
        sa.Column("scheduled_start", UtcInstant(), nullable=False),
        sa.Column("scheduled_end", UtcInstant(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("paid_fen", sa.BigInteger(), nullable=False),
        sa.Column("refunded_fen", sa.BigInteger(), nullable=False),
        sa.Column("placed_at", UtcInstant(), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("entered_at", UtcInstant(), nullable=False),
        sa.Column("rejected_by", sa.Text(), nullable=False),
        sa.Column("arrived_at", UtcInstant(), nullable=True),
        sa.Column("finished_at", UtcInstant(), nullable=True),
        sa.Column("settlement_cause", sa.String(32), nullable=True),
        sa.Column("settlement_by", sa.String(32), nullable=True),
        sa.Column("settlement_refund_bp", sa.Integer(), nullable=True),
        sa.Column("settlement_therapist_bp", sa.Integer(), nullable=True),
        sa.Column("settlement_refund_fen", sa.BigInteger(), nullable=True),
        sa.Column("settlement_therapist_fen", sa.BigInteger(), nullable=True),
        sa.Column("settlement_platform_fen", sa.BigInteger(), nullable=True),
        sa.Column("penalty_therapist_id", sa.String(40), nullable=True),
        sa.Column("penalty_cause", sa.String(32), nullable=True),
        sa.Column("penalty_at", UtcInstant(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["accounts.id"], name=op.f("fk_orders_customer_id_accounts")),
        sa.ForeignKeyConstraint(["therapist_id"], ["accounts.id"], name=op.f("fk_orders_therapist_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.CheckConstraint("scheduled_end > scheduled_start", name=op.f("ck_orders_scheduled")),
        sa.CheckConstraint("total_fen >= 0 AND refunded_fen >= 0 AND refunded_fen <= paid_fen",
                           name=op.f("ck_orders_money")),
        sa.CheckConstraint("(settlement_cause IS NULL) = (settlement_refund_fen IS NULL)",
                           name=op.f("ck_orders_settlement")),
        sa.CheckConstraint("(penalty_therapist_id IS NULL) = (penalty_at IS NULL)", name=op.f("ck_orders_penalty")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_orders_version_positive")),
    )
    for name, columns in INDEXES:
        op.create_index(op.f(name), "orders", columns)
    op.create_table(
        "order_timeline",
        sa.Column("order_id", sa.String(40), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("at", UtcInstant(), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("party", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("from_state", sa.String(32), nullable=True),
        sa.Column("to_state", sa.String(32), nullable=False),
        sa.Column("note_enc", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_order_timeline_order_id_orders"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("order_id", "position", name=op.f("pk_order_timeline")),
    )


def downgrade() -> None:
    """Drop both tables and the indexes."""
    op.drop_table("order_timeline")
    for name, _ in INDEXES:
        op.drop_index(op.f(name), table_name="orders")
    op.drop_table("orders")
