"""Reviews (decision 0037).

Two tables: ``reviews`` (one per order: ``order_id`` unique; scores, text, tags, the double-blind fields, the
moderation of the text and of the reply, the rating bookkeeping ``counted``) and ``customer_feedback`` (the
therapist's private rating and abuse flag of an order's customer, note and reason encrypted).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from massage_core.adapters.sql.types import UtcInstant

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | None = None
depends_on: str | None = None

STATES = "('pending', 'approved', 'rejected')"
REVIEW_INDEXES = (("therapist_id", "submitted_at"), ("customer_id", "submitted_at"), ("state", "submitted_at"),
                  ("reply_state", "submitted_at"))


def upgrade() -> None:
    """Create reviews and customer_feedback with their constraints and indexes."""
    op.create_table(
        "reviews",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("order_id", sa.String(40), nullable=False),
        sa.Column("customer_id", sa.String(40), nullable=False),
        sa.Column("therapist_id", sa.String(40), nullable=False),
        sa.Column("attitude", sa.SmallInteger(), nullable=False),
        sa.Column("skill", sa.SmallInteger(), nullable=False),
        sa.Column("pressure", sa.SmallInteger(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("tags", sa.String(200), nullable=False),
        sa.Column("submitted_at", UtcInstant(), nullable=False),
        sa.Column("blind_until", UtcInstant(), nullable=False),
        sa.Column("both_sides", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("findings", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(40), nullable=True),
        sa.Column("decided_at", UtcInstant(), nullable=True),
        sa.Column("masked", sa.Boolean(), nullable=False),
        sa.Column("reply_text", sa.Text(), nullable=True),
        sa.Column("reply_at", UtcInstant(), nullable=True),
        sa.Column("reply_state", sa.String(16), nullable=True),
        sa.Column("reply_findings", sa.String(200), nullable=True),
        sa.Column("reply_reason", sa.Text(), nullable=True),
        sa.Column("reply_decided_by", sa.String(40), nullable=True),
        sa.Column("reply_decided_at", UtcInstant(), nullable=True),
        sa.Column("reply_masked", sa.Boolean(), nullable=True),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
        sa.UniqueConstraint("order_id", name=op.f("uq_reviews_order_id")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_reviews_order_id_orders")),
        sa.ForeignKeyConstraint(["customer_id"], ["accounts.id"], name=op.f("fk_reviews_customer_id_accounts")),
        sa.ForeignKeyConstraint(["therapist_id"], ["accounts.id"], name=op.f("fk_reviews_therapist_id_accounts")),
        sa.CheckConstraint("attitude BETWEEN 1 AND 5 AND skill BETWEEN 1 AND 5 AND pressure BETWEEN 1 AND 5",
                           name=op.f("ck_reviews_scores")),
        sa.CheckConstraint(f"state IN {STATES}", name=op.f("ck_reviews_state")),
        sa.CheckConstraint(f"reply_state IS NULL OR reply_state IN {STATES}", name=op.f("ck_reviews_reply_state")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_reviews_version_positive")),
    )
    for columns in REVIEW_INDEXES:
        op.create_index(op.f(f"ix_reviews_{'_'.join(columns)}"), "reviews", list(columns))
    op.create_table(
        "customer_feedback",
        sa.Column("order_id", sa.String(40), nullable=False),
        sa.Column("therapist_id", sa.String(40), nullable=False),
        sa.Column("customer_id", sa.String(40), nullable=False),
        sa.Column("stars", sa.SmallInteger(), nullable=True),
        sa.Column("note_enc", sa.Text(), nullable=True),
        sa.Column("rated_at", UtcInstant(), nullable=True),
        sa.Column("flag_reason_enc", sa.Text(), nullable=True),
        sa.Column("flagged_at", UtcInstant(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_customer_feedback")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_customer_feedback_order_id_orders")),
        sa.ForeignKeyConstraint(["therapist_id"], ["accounts.id"],
                                name=op.f("fk_customer_feedback_therapist_id_accounts")),
        sa.ForeignKeyConstraint(["customer_id"], ["accounts.id"],
                                name=op.f("fk_customer_feedback_customer_id_accounts")),
        sa.CheckConstraint("stars IS NULL OR stars BETWEEN 1 AND 5", name=op.f("ck_customer_feedback_stars")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_customer_feedback_version_positive")),
    )
    op.create_index(op.f("ix_customer_feedback_flagged_at"), "customer_feedback", ["flagged_at"])


def downgrade() -> None:
    """Drop the indexes and the tables."""
    op.drop_index(op.f("ix_customer_feedback_flagged_at"), table_name="customer_feedback")
    op.drop_table("customer_feedback")
    for columns in REVIEW_INDEXES:
        op.drop_index(op.f(f"ix_reviews_{'_'.join(columns)}"), table_name="reviews")
    op.drop_table("reviews")
