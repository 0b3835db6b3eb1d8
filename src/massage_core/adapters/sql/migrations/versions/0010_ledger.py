"""The double-entry ledger: entries, lines, maintained balances, and the triggers that keep the ledger
balanced and immutable below the repository (decision 0029).

The trigger statements come from ``tables_ledger.trigger_statements`` so a ``metadata.create_all`` schema and
a migrated one are the same; a later change to them belongs in a new migration that drops and recreates them
with its own copy of the new text.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from massage_core.adapters.sql.tables_ledger import drop_statements, trigger_statements
from massage_core.adapters.sql.types import UtcInstant

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create ledger_entries (unique key), ledger_lines (deferred foreign key to the entry, positive amounts,
    account index), ledger_balances, and the ledger's triggers."""
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(120), nullable=False),
        sa.Column("at", UtcInstant(), nullable=False),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
        sa.UniqueConstraint("key", name=op.f("uq_ledger_entries_key")),
    )
    op.create_table(
        "ledger_lines",
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("account", sa.String(80), nullable=False),
        sa.Column("side", sa.String(6), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["ledger_entries.id"], name=op.f("fk_ledger_lines_entry_id_ledger_entries"),
                                deferrable=True, initially="DEFERRED"),
        sa.PrimaryKeyConstraint("entry_id", "position", name=op.f("pk_ledger_lines")),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_ledger_lines_amount_positive")),
        sa.CheckConstraint("side IN ('debit', 'credit')", name=op.f("ck_ledger_lines_side")),
    )
    op.create_index(op.f("ix_ledger_lines_account_entry_id"), "ledger_lines", ["account", "entry_id"])
    op.create_table(
        "ledger_balances",
        sa.Column("account", sa.String(80), nullable=False),
        sa.Column("balance_fen", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", UtcInstant(), nullable=False),
        sa.PrimaryKeyConstraint("account", name=op.f("pk_ledger_balances")),
    )
    for statement in trigger_statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    """Drop the triggers (and PostgreSQL's trigger functions), then the three tables."""
    for statement in drop_statements(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_table("ledger_balances")
    op.drop_index(op.f("ix_ledger_lines_account_entry_id"), table_name="ledger_lines")
    op.drop_table("ledger_lines")
    op.drop_table("ledger_entries")
