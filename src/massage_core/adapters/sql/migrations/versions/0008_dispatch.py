"""Dispatch: the order's dispatch mode, the customer's gender preference and the encrypted visit address;
indexes for the dispatcher's acceptance counts and for the SOS alert queue (decision 0024).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add orders.dispatch_mode (existing orders were the customer's choice), gender_preference, address_enc;
    index order_timeline (actor, action, at) and (action, at)."""
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("dispatch_mode", sa.String(32), nullable=False, server_default="chosen"))
        batch.add_column(sa.Column("address_enc", sa.Text(), nullable=True))
        batch.add_column(sa.Column("gender_preference", sa.String(32), nullable=True))
    op.create_index(op.f("ix_order_timeline_actor_action_at"), "order_timeline", ["actor", "action", "at"])
    op.create_index(op.f("ix_order_timeline_action_at"), "order_timeline", ["action", "at"])


def downgrade() -> None:
    """Drop the index and the three columns."""
    op.drop_index(op.f("ix_order_timeline_action_at"), table_name="order_timeline")
    op.drop_index(op.f("ix_order_timeline_actor_action_at"), table_name="order_timeline")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("gender_preference")
        batch.drop_column("address_enc")
        batch.drop_column("dispatch_mode")
