"""Notifications: the transactional outbox, the in-app inbox and notification preferences (decision 0041).

Three tables: ``outbox_messages`` (one per message, recipient and channel; unique dedupe key; subject and
body encrypted; the dispatcher's lease; due pending messages found by state and due time),
``inbox_items`` (the in-app inbox: unique dedupe key, subject and body encrypted, read or not) and
``notification_preferences`` (each account's channels per category, quiet hours and locale).

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from massage_core.adapters.sql.types import UtcInstant

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create outbox_messages, inbox_items and notification_preferences with their constraints and indexes."""
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("dedupe_key", sa.String(200), nullable=False),
        sa.Column("recipient", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("urgency", sa.String(32), nullable=False),
        sa.Column("subject_enc", sa.Text(), nullable=True),
        sa.Column("body_enc", sa.Text(), nullable=True),
        sa.Column("created_at", UtcInstant(), nullable=False),
        sa.Column("due_at", UtcInstant(), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", UtcInstant(), nullable=True),
        sa.Column("lease_until", UtcInstant(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_messages_dedupe_key")),
        sa.CheckConstraint("state IN ('pending', 'sent', 'dead')", name=op.f("ck_outbox_messages_state")),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_outbox_messages_attempts")),
    )
    op.create_index(op.f("ix_outbox_messages_state_due_at"), "outbox_messages", ["state", "due_at"])
    op.create_index(op.f("ix_outbox_messages_created_at"), "outbox_messages", ["created_at"])
    op.create_table(
        "inbox_items",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("recipient", sa.String(40), nullable=False),
        sa.Column("dedupe_key", sa.String(200), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("subject_enc", sa.Text(), nullable=True),
        sa.Column("body_enc", sa.Text(), nullable=True),
        sa.Column("delivered_at", UtcInstant(), nullable=False),
        sa.Column("read_at", UtcInstant(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_items")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_inbox_items_dedupe_key")),
    )
    op.create_index(op.f("ix_inbox_items_recipient_delivered_at"), "inbox_items", ["recipient", "delivered_at"])
    op.create_table(
        "notification_preferences",
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("channels", sa.Text(), nullable=False),
        sa.Column("quiet_hours", sa.String(11), nullable=True),
        sa.Column("locale", sa.String(8), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_notification_preferences")),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE",
                                name=op.f("fk_notification_preferences_account_id_accounts")),
    )


def downgrade() -> None:
    """Drop the indexes and the three tables."""
    op.drop_table("notification_preferences")
    op.drop_index(op.f("ix_inbox_items_recipient_delivered_at"), table_name="inbox_items")
    op.drop_table("inbox_items")
    for name in ("ix_outbox_messages_created_at", "ix_outbox_messages_state_due_at"):
        op.drop_index(op.f(name), table_name="outbox_messages")
    op.drop_table("outbox_messages")
