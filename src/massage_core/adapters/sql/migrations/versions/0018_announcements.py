"""Announcements, their recipients with read receipts, and the support duty roster (decision 0044).

Three tables: ``announcements`` (what was sent to whom, with its reach), ``announcement_recipients`` (one row
per recipient and announcement with ``read_at``; looked up by recipient too) and ``support_duty`` (the
support admins on duty).

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from massage_core.adapters.sql.types import UtcInstant

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create announcements, announcement_recipients and support_duty."""
    op.create_table(
        "announcements",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("audience", sa.String(32), nullable=False),
        sa.Column("city", sa.String(32), nullable=True),
        sa.Column("levels", sa.String(400), nullable=False),
        sa.Column("sent_by", sa.String(40), nullable=False),
        sa.Column("sent_at", UtcInstant(), nullable=False),
        sa.Column("targeted", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcements")),
        sa.CheckConstraint("kind IN ('announcement', 'training')", name=op.f("ck_announcements_kind")),
        sa.CheckConstraint("audience IN ('customers', 'therapists', 'both')",
                           name=op.f("ck_announcements_audience")),
        sa.CheckConstraint("targeted >= 0", name=op.f("ck_announcements_targeted_not_negative")),
    )
    op.create_index(op.f("ix_announcements_sent_at_id"), "announcements", ["sent_at", "id"])
    op.create_table(
        "announcement_recipients",
        sa.Column("announcement_id", sa.String(40), nullable=False),
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("read_at", UtcInstant(), nullable=True),
        sa.PrimaryKeyConstraint("announcement_id", "account_id", name=op.f("pk_announcement_recipients")),
        sa.ForeignKeyConstraint(["announcement_id"], ["announcements.id"], ondelete="CASCADE",
                                name=op.f("fk_announcement_recipients_announcement_id_announcements")),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"],
                                name=op.f("fk_announcement_recipients_account_id_accounts")),
    )
    op.create_index(op.f("ix_announcement_recipients_account_id_announcement_id"), "announcement_recipients",
                    ["account_id", "announcement_id"])
    op.create_table(
        "support_duty",
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("since", UtcInstant(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_support_duty")),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE",
                                name=op.f("fk_support_duty_account_id_accounts")),
    )


def downgrade() -> None:
    """Drop the three tables and their indexes."""
    op.drop_table("support_duty")
    op.drop_index(op.f("ix_announcement_recipients_account_id_announcement_id"),
                  table_name="announcement_recipients")
    op.drop_table("announcement_recipients")
    op.drop_index(op.f("ix_announcements_sent_at_id"), table_name="announcements")
    op.drop_table("announcements")
