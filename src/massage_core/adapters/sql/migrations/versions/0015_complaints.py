"""Complaints and feedback (decision 0038).

Four tables: ``complaints`` (one live complaint per order through a partial unique index) with its timeline
``complaint_steps`` (encrypted notes), and ``platform_feedback`` with ``platform_feedback_replies`` (encrypted
texts).

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from massage_core.adapters.sql.types import UtcInstant

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | None = None
depends_on: str | None = None

LIVE = "state IN ('open', 'therapist_responded', 'under_mediation')"


def upgrade() -> None:
    """Create the four tables with their constraints and indexes."""
    op.create_table(
        "complaints",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("order_id", sa.String(40), nullable=False),
        sa.Column("customer_id", sa.String(40), nullable=False),
        sa.Column("therapist_id", sa.String(40), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("filed_at", UtcInstant(), nullable=False),
        sa.Column("answer_due", UtcInstant(), nullable=False),
        sa.Column("answered_at", UtcInstant(), nullable=True),
        sa.Column("mediator_id", sa.String(40), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=True),
        sa.Column("resolved_by", sa.String(40), nullable=True),
        sa.Column("resolved_at", UtcInstant(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_complaints_order_id_orders")),
        sa.ForeignKeyConstraint(["customer_id"], ["accounts.id"], name=op.f("fk_complaints_customer_id_accounts")),
        sa.ForeignKeyConstraint(["therapist_id"], ["accounts.id"],
                                name=op.f("fk_complaints_therapist_id_accounts")),
        sa.CheckConstraint("state IN ('open', 'therapist_responded', 'under_mediation', 'resolved', 'withdrawn')",
                           name=op.f("ck_complaints_state")),
        sa.CheckConstraint("(outcome IS NULL) = (state <> 'resolved')", name=op.f("ck_complaints_outcome")),
        sa.CheckConstraint("amount_fen IS NULL OR amount_fen >= 0", name=op.f("ck_complaints_amount")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_complaints_version_positive")),
    )
    op.create_index(op.f("ix_complaints_order_id"), "complaints", ["order_id"], unique=True,
                    sqlite_where=sa.text(LIVE), postgresql_where=sa.text(LIVE))
    op.create_index(op.f("ix_complaints_customer_id_filed_at"), "complaints", ["customer_id", "filed_at"])
    op.create_index(op.f("ix_complaints_therapist_id_state"), "complaints", ["therapist_id", "state"])
    op.create_index(op.f("ix_complaints_state_filed_at"), "complaints", ["state", "filed_at"])
    op.create_index(op.f("ix_complaints_state_answer_due"), "complaints", ["state", "answer_due"])
    op.create_table(
        "complaint_steps",
        sa.Column("complaint_id", sa.String(40), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("at", UtcInstant(), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("party", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("from_state", sa.String(32), nullable=True),
        sa.Column("to_state", sa.String(32), nullable=False),
        sa.Column("note_enc", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("complaint_id", "position", name=op.f("pk_complaint_steps")),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaints.id"], ondelete="CASCADE",
                                name=op.f("fk_complaint_steps_complaint_id_complaints")),
    )
    op.create_table(
        "platform_feedback",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("author_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("text_enc", sa.Text(), nullable=True),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("submitted_at", UtcInstant(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_feedback")),
        sa.ForeignKeyConstraint(["author_id"], ["accounts.id"], name=op.f("fk_platform_feedback_author_id_accounts")),
        sa.CheckConstraint("kind IN ('feedback', 'suggestion', 'bug')", name=op.f("ck_platform_feedback_kind")),
        sa.CheckConstraint("state IN ('open', 'answered')", name=op.f("ck_platform_feedback_state")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_platform_feedback_version_positive")),
    )
    op.create_index(op.f("ix_platform_feedback_author_id_submitted_at"), "platform_feedback",
                    ["author_id", "submitted_at"])
    op.create_index(op.f("ix_platform_feedback_state_submitted_at"), "platform_feedback", ["state", "submitted_at"])
    op.create_table(
        "platform_feedback_replies",
        sa.Column("feedback_id", sa.String(40), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("at", UtcInstant(), nullable=False),
        sa.Column("admin_id", sa.String(40), nullable=False),
        sa.Column("text_enc", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("feedback_id", "position", name=op.f("pk_platform_feedback_replies")),
        sa.ForeignKeyConstraint(["feedback_id"], ["platform_feedback.id"], ondelete="CASCADE",
                                name=op.f("fk_platform_feedback_replies_feedback_id_platform_feedback")),
    )


def downgrade() -> None:
    """Drop the tables (their indexes go with them)."""
    op.drop_table("platform_feedback_replies")
    for name in ("ix_platform_feedback_state_submitted_at", "ix_platform_feedback_author_id_submitted_at"):
        op.drop_index(op.f(name), table_name="platform_feedback")
    op.drop_table("platform_feedback")
    op.drop_table("complaint_steps")
    for name in ("ix_complaints_state_answer_due", "ix_complaints_state_filed_at", "ix_complaints_therapist_id_state",
                 "ix_complaints_customer_id_filed_at", "ix_complaints_order_id"):
        op.drop_index(op.f(name), table_name="complaints")
    op.drop_table("complaints")
