"""The order's itemised bill and the therapist level it was priced at, for the ledger's split (issue 5).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add orders.bill (``kind:fen`` pairs; empty for orders booked before) and orders.level."""
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("bill", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("level", sa.String(32), nullable=True))


def downgrade() -> None:
    """Drop both columns."""
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("level")
        batch.drop_column("bill")
