"""Withdrawals (decision 0033).

One table: a therapist's withdrawal requests with amount, fee, state, who decided and why; lookups by
therapist and by state (the finance queue).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from massage_core.adapters.sql.types import UtcInstant

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create withdrawals with its constraints and two indexes."""
    op.create_table(
        "withdrawals",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("therapist_id", sa.String(40), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("fee_fen", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("requested_at", UtcInstant(), nullable=False),
        sa.Column("decided_by", sa.String(40), nullable=True),
        sa.Column("decided_at", UtcInstant(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("settled_at", UtcInstant(), nullable=True),
        sa.Column("payout_reference", sa.String(64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_withdrawals")),
        sa.ForeignKeyConstraint(["therapist_id"], ["accounts.id"],
                                name=op.f("fk_withdrawals_therapist_id_accounts")),
        sa.CheckConstraint("state IN ('requested', 'approved', 'paid', 'failed', 'rejected')",
                           name=op.f("ck_withdrawals_state")),
        sa.CheckConstraint("amount_fen > 0 AND fee_fen >= 0 AND fee_fen < amount_fen",
                           name=op.f("ck_withdrawals_amounts")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_withdrawals_version_positive")),
    )
    op.create_index(op.f("ix_withdrawals_therapist_id_requested_at"), "withdrawals", ["therapist_id", "requested_at"])
    op.create_index(op.f("ix_withdrawals_state_requested_at"), "withdrawals", ["state", "requested_at"])


def downgrade() -> None:
    """Drop the indexes and the table."""
    for name in ("ix_withdrawals_state_requested_at", "ix_withdrawals_therapist_id_requested_at"):
        op.drop_index(op.f(name), table_name="withdrawals")
    op.drop_table("withdrawals")
