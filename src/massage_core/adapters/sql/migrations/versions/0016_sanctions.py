"""Sanctions and their appeals (decision 0039).

Two tables: ``sanctions`` (deduction, warning or suspension of a therapist, the reason encrypted, the state
and an optimistic version; lookups by therapist and by state and end) and ``sanction_appeals`` (at most one
per sanction: its primary key is the sanction id; the text and the decision's reason encrypted).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from massage_core.adapters.sql.types import UtcInstant

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create sanctions and sanction_appeals with their constraints and indexes."""
    op.create_table(
        "sanctions",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("therapist_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("reason_enc", sa.Text(), nullable=False),
        sa.Column("imposed_by", sa.String(40), nullable=True),
        sa.Column("imposed_at", UtcInstant(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=True),
        sa.Column("ends_at", UtcInstant(), nullable=True),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("ended_at", UtcInstant(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sanctions")),
        sa.ForeignKeyConstraint(["therapist_id"], ["accounts.id"], name=op.f("fk_sanctions_therapist_id_accounts")),
        sa.CheckConstraint("kind IN ('deduction', 'warning', 'suspension')", name=op.f("ck_sanctions_kind")),
        sa.CheckConstraint("state IN ('in_force', 'ended', 'reversed')", name=op.f("ck_sanctions_state")),
        sa.CheckConstraint(
            "(kind = 'deduction') = (amount_fen IS NOT NULL) AND (amount_fen IS NULL OR amount_fen > 0)",
            name=op.f("ck_sanctions_amount")),
        sa.CheckConstraint("ends_at IS NULL OR kind = 'suspension'", name=op.f("ck_sanctions_ends")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_sanctions_version_positive")),
    )
    op.create_index(op.f("ix_sanctions_therapist_id_imposed_at"), "sanctions", ["therapist_id", "imposed_at"])
    op.create_index(op.f("ix_sanctions_state_ends_at"), "sanctions", ["state", "ends_at"])
    op.create_table(
        "sanction_appeals",
        sa.Column("sanction_id", sa.String(40), nullable=False),
        sa.Column("text_enc", sa.Text(), nullable=False),
        sa.Column("filed_at", UtcInstant(), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("decided_by", sa.String(40), nullable=True),
        sa.Column("decided_at", UtcInstant(), nullable=True),
        sa.Column("decision_enc", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("sanction_id", name=op.f("pk_sanction_appeals")),
        sa.ForeignKeyConstraint(["sanction_id"], ["sanctions.id"], ondelete="CASCADE",
                                name=op.f("fk_sanction_appeals_sanction_id_sanctions")),
        sa.CheckConstraint("state IN ('pending', 'upheld', 'rejected')", name=op.f("ck_sanction_appeals_state")),
        sa.CheckConstraint("(state = 'pending') = (decided_at IS NULL)", name=op.f("ck_sanction_appeals_decided")),
    )
    op.create_index(op.f("ix_sanction_appeals_state_filed_at"), "sanction_appeals", ["state", "filed_at"])


def downgrade() -> None:
    """Drop the indexes and the two tables."""
    op.drop_index(op.f("ix_sanction_appeals_state_filed_at"), table_name="sanction_appeals")
    op.drop_table("sanction_appeals")
    for name in ("ix_sanctions_state_ends_at", "ix_sanctions_therapist_id_imposed_at"):
        op.drop_index(op.f(name), table_name="sanctions")
    op.drop_table("sanctions")
