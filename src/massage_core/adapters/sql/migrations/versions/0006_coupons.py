"""Coupons and their live redemptions (decision 0020).

Revision ID: 0006
Revises: 0005
Create Date: 2026-01-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from massage_core.adapters.sql.types import UtcInstant

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create coupons (unique code, list index) and coupon_redemptions (limit-count index)."""
    op.create_table(
        "coupons",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("code", sa.String(32), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount_off_fen", sa.BigInteger(), nullable=True),
        sa.Column("percent_off_bp", sa.Integer(), nullable=True),
        sa.Column("max_discount_fen", sa.BigInteger(), nullable=True),
        sa.Column("min_spend_fen", sa.BigInteger(), nullable=False),
        sa.Column("valid_from", UtcInstant(), nullable=False),
        sa.Column("valid_until", UtcInstant(), nullable=False),
        sa.Column("per_customer_limit", sa.Integer(), nullable=True),
        sa.Column("total_limit", sa.Integer(), nullable=True),
        sa.Column("single_use", sa.Boolean(), nullable=False),
        sa.Column("service_ids", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupons")),
        sa.UniqueConstraint("code", name=op.f("uq_coupons_code")),
        sa.CheckConstraint("(amount_off_fen IS NULL) <> (percent_off_bp IS NULL)", name=op.f("ck_coupons_kind")),
        sa.CheckConstraint("valid_until > valid_from", name=op.f("ck_coupons_validity")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_coupons_version_positive")),
    )
    op.create_index(op.f("ix_coupons_active_valid_from"), "coupons", ["active", "valid_from"])
    op.create_table(
        "coupon_redemptions",
        sa.Column("order_id", sa.String(40), nullable=False),
        sa.Column("coupon_id", sa.String(40), nullable=False),
        sa.Column("customer_id", sa.String(40), nullable=False),
        sa.Column("redeemed_at", UtcInstant(), nullable=False),
        sa.ForeignKeyConstraint(["coupon_id"], ["coupons.id"], name=op.f("fk_coupon_redemptions_coupon_id_coupons")),
        sa.ForeignKeyConstraint(["customer_id"], ["accounts.id"],
                                name=op.f("fk_coupon_redemptions_customer_id_accounts")),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_coupon_redemptions")),
    )
    op.create_index(op.f("ix_coupon_redemptions_coupon_id_customer_id"), "coupon_redemptions",
                    ["coupon_id", "customer_id"])


def downgrade() -> None:
    """Drop both tables and their indexes."""
    op.drop_index(op.f("ix_coupon_redemptions_coupon_id_customer_id"), table_name="coupon_redemptions")
    op.drop_table("coupon_redemptions")
    op.drop_index(op.f("ix_coupons_active_valid_from"), table_name="coupons")
    op.drop_table("coupons")
