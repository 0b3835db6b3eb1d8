"""Customer profiles: gender, encrypted birth, health conditions and note (decision 0022).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from massage_core.adapters.sql.types import UtcInstant

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create customer_profiles (one row per account; health data only as encrypted tokens)."""
    op.create_table(
        "customer_profiles",
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("gender", sa.String(32), nullable=True),
        sa.Column("preferred_therapist_gender", sa.String(32), nullable=True),
        sa.Column("birth_enc", sa.Text(), nullable=False),
        sa.Column("conditions_enc", sa.Text(), nullable=False),
        sa.Column("health_note_enc", sa.Text(), nullable=False),
        sa.Column("updated_at", UtcInstant(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"],
                                name=op.f("fk_customer_profiles_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_customer_profiles")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_customer_profiles_version_positive")),
    )


def downgrade() -> None:
    """Drop customer_profiles."""
    op.drop_table("customer_profiles")
