"""Late arrival: how many minutes late the therapist arrived and its penalty record, kept apart from the
settlement's penalty (decision 0025).

Three nullable columns, added in place (``ALTER TABLE ... ADD COLUMN`` on both backends).  No CHECK
constraint: on SQLite adding one means rebuilding ``orders``, and dropping the old table with foreign keys on
would cascade into ``order_timeline``.  The three columns are written together by the repository's mapping
from one ``LateArrival`` value.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from massage_core.adapters.sql.types import UtcInstant

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None

COLUMNS = ("late_minutes", "late_penalty_therapist_id", "late_penalty_at")


def upgrade() -> None:
    """Add orders.late_minutes, late_penalty_therapist_id, late_penalty_at (NULL: on time; existing orders
    recorded no lateness)."""
    op.add_column("orders", sa.Column("late_minutes", sa.Integer(), nullable=True))
    op.add_column("orders", sa.Column("late_penalty_therapist_id", sa.String(40), nullable=True))
    op.add_column("orders", sa.Column("late_penalty_at", UtcInstant(), nullable=True))


def downgrade() -> None:
    """Drop the three columns, in place (SQLite 3.35+ drops a plain column without rebuilding the table)."""
    for name in reversed(COLUMNS):
        op.drop_column("orders", name)
